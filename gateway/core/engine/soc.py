"""State of charge, capacity learning and runtime of every unit of one string (vectorised).

Coulomb counting per unit (string current minus that unit's bypass), capacities learnt from
the voltage slopes of a discharge (lead-acid) or from the shape of a charge back to full (Li,
NiCd), OCV correction after a long rest, reset to full on a charge-acceptance criterion, and a
runtime forecast from rate-dependent capacity and the observed voltage trend.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gateway.core.engine.alignment import CurveAligner
from gateway.core.engine.charge_curve import ChargeCurve
from gateway.core.engine.chemistry import ChemistryParams, ocv_slope, soc_from_ocv
from gateway.core.engine.config import EngineConfig
from gateway.core.engine.linear_fit import LinearFit
from gateway.core.engine.measurement import Mode, StringSpec

#: time constant of the weighted voltage-vs-Ah fit that tracks the recent discharge slope
TREND_TAU_S = 180.0
#: the rated capacity counts like a discharge of this depth before anything is learnt
RATED_PRIOR_WEIGHT = 0.02
#: seconds of discharge between two curve alignments (each costs a few ms on 512 units)
ALIGN_EVERY_S = 20.0
#: Ah bin of the aligned curves, as a share of the capacity (200 bins to empty)
ALIGN_BIN = 0.005
#: spread of relative capacities before a discharge says otherwise (prior of the alignment)
ALIGN_PRIOR_SIGMA = 0.3
#: the alignment's standard error is never taken as smaller than this
ALIGN_MIN_SE = 0.02
#: SOC uncertainty before anything is known: strings are commissioned charged (IEEE 1188 asks
#: for a full charge before acceptance), so "full" is taken as good to about 5 %
INITIAL_SOC_SIGMA = 0.05
#: what an unmeasured discharge leaves: the next OCV read decides almost alone
UNKNOWN_SOC_SIGMA = 0.5
#: the generic Peukert exponent counts like this many discharges run to the end
PEUKERT_PRIOR_WEIGHT = 0.25
#: a unit this close to its end voltage (V/cell) when a discharge ended had run to its end
END_MARGIN_V_PER_CELL = 0.05


class SocEstimator:
    """Per-unit charge bookkeeping of one string."""

    def __init__(self, spec: StringSpec, config: EngineConfig, chem: ChemistryParams) -> None:
        n = spec.units
        self.spec, self.cfg, self.chem = spec, config.soc, chem
        self.cells = spec.cells_per_unit
        rated = spec.capacity_override_ah or (spec.rated_capacity_ah,) * n
        self.rated_ah = np.asarray(rated, float)
        self.capacity_ah = self.rated_ah.copy()  # current best C10 estimate
        self.capacity_known = np.zeros(n, bool)  # learnt from a discharge
        self.capacity_weight = np.zeros(n)  # depth-weighted evidence behind the learnt value
        self.deficit_ah = np.zeros(n)  # Ah missing to full charge (C10 basis)
        self.sigma_soc = np.full(n, INITIAL_SOC_SIGMA)
        #: False after a discharge with no current reading, until a rest's OCV or a full charge
        self.known = np.ones(n, bool)
        self.eff = self.cfg.charge_efficiency or chem.charge_efficiency
        self.peukert = self.cfg.peukert_exponent or chem.peukert_exponent
        # learnt from discharges that ran a unit to its end voltage, unless set by hand
        self.peukert_learns = self.cfg.peukert_exponent is None
        self.peukert_weight = PEUKERT_PRIOR_WEIGHT
        self.full_current_c = self.cfg.full_charge_current_c or chem.full_current_c
        self.ocv_rest_s = self.cfg.ocv_rest_s or chem.ocv_rest_s
        self._temp_last = np.full(n, 25.0)
        self._full_since: float | None = None
        self._rest_since: float | None = None
        self._rest_base = (self.soc.copy(), self.sigma_soc.copy())
        self._last_ocv_fix: float | None = None
        # discharge-scoped state
        self._dis_start: float | None = None
        self._dis_ah = 0.0
        self._dis_counted = True  # the current was known throughout the discharge
        self._dis_cap_start = self.capacity_ah.copy()
        self._dis_deficit_start = self.deficit_ah.copy()
        self._dis_temp_c = np.full(n, 25.0)
        self._slope_fit = LinearFit(n)
        self._trend_fit = LinearFit(n)
        self._string_fit = LinearFit(1)
        bin_ah, bins = ALIGN_BIN * float(np.median(self.rated_ah)), int(1.5 / ALIGN_BIN)
        self._aligner = CurveAligner(n, bin_ah, bins)
        self._charge = ChargeCurve(n, bin_ah, bins)  # capacities of flat-curve chemistries
        self._aligned_t = -math.inf
        #: each unit's available charge at the present rate relative to the median unit,
        #: from the alignment of the discharge curves (1 until the discharge shows otherwise)
        self.rate_rel = np.ones(n)

    # -- results ----------------------------------------------------------------------------
    @property
    def soc(self) -> np.ndarray:
        soc: np.ndarray = np.clip(1.0 - self.deficit_ah / self.capacity_ah, 0.0, 1.0)
        return soc

    def string_soc(self) -> float:
        """Charge the string delivers before its first unit is empty, over the smallest capacity."""
        return float(np.min(self.soc * self.capacity_ah) / np.min(self.capacity_ah))

    def shown_soc(self) -> tuple[np.ndarray, float]:
        """Per-unit and string SOC as reported: NaN (unknown) where a load went unmeasured."""
        if self.known.all():
            return self.soc, self.string_soc()
        return np.where(self.known, self.soc, np.nan), math.nan

    def soh(self) -> np.ndarray:
        return np.where(self.capacity_known, self.capacity_ah / self.rated_ah, np.nan)

    # -- per cycle ----------------------------------------------------------------------------
    def update(
        self,
        t: float,
        dt: float,
        current_a: float,
        unit_current_a: np.ndarray,
        mode: Mode,
        voltage_v: np.ndarray,
        temperature_c: np.ndarray,
        discharging: bool = False,
    ) -> None:
        """Advance by ``dt`` seconds with the (trapezoid-averaged) currents of this interval."""
        ah = unit_current_a * dt / 3600.0
        stored = np.where(ah > 0, ah * self.eff, ah)
        self.deficit_ah = np.clip(self.deficit_ah - stored, 0.0, self.capacity_ah)
        # coulomb-counting uncertainty grows with throughput: sensor gain, efficiency, capacity
        cap_sigma = np.where(self.capacity_known, 0.03, 0.10)
        self.sigma_soc = np.hypot(self.sigma_soc, 0.02 * np.abs(ah) / self.capacity_ah)
        self.sigma_soc += cap_sigma * np.abs(np.minimum(ah, 0.0)) / self.capacity_ah * 0.5
        self._temp_last = temperature_c
        if mode is Mode.DISCHARGE and not math.isfinite(current_a):
            # a load nobody measures: SOC is unknown until a rest's OCV or a full charge says
            self.known[:] = False
            self.sigma_soc = np.maximum(self.sigma_soc, UNKNOWN_SOC_SIGMA)
        if mode is Mode.DISCHARGE and discharging:  # not in the hold after the load went away
            self._discharge_step(t, dt, current_a, voltage_v)
        self._charge_curve_step(mode, current_a, voltage_v)
        self._full_charge_check(t, current_a, mode, voltage_v)
        self._ocv_check(t, mode, voltage_v, temperature_c, math.isfinite(current_a))

    def _full_charge_check(self, t: float, current_a: float, mode: Mode, v: np.ndarray) -> None:
        c10_a = float(np.min(self.rated_ah)) / 10.0
        small = math.isfinite(current_a) and 0.0 < current_a <= self.full_current_c * 10.0 * c10_a
        high = np.nanmedian(v) / self.cells >= self.chem.full_v_per_cell if np.isfinite(v).any() else False
        # without a current sensor, acceptance cannot be seen: only a long float says full
        hold = self.cfg.full_charge_hold_s if small else self.cfg.full_without_current_s
        if mode in (Mode.FLOAT, Mode.CHARGE) and (small or not math.isfinite(current_a)) and high:
            if self._full_since is None:
                self._full_since = t
            elif t - self._full_since >= hold:
                self.deficit_ah[:] = 0.0
                self.sigma_soc[:] = 0.005
                self.known[:] = True
        else:
            self._full_since = None

    def _ocv_check(self, t: float, mode: Mode, v: np.ndarray, temp: np.ndarray, measured: bool) -> None:
        if mode is not Mode.REST or not measured:  # without a current, a rest is only a guess
            self._rest_since = self._last_ocv_fix = None
            return
        if self._rest_since is None:
            self._rest_since = t
            # what coulomb counting knew when the rest began (no current flows during it)
            self._rest_base = (self.soc.copy(), self.sigma_soc.copy())
        ref = self._last_ocv_fix if self._last_ocv_fix is not None else self._rest_since
        if t - ref < self.ocv_rest_s:
            return
        self._last_ocv_fix = t
        soc_ocv = soc_from_ocv(self.chem, v / self.cells, temp)
        # a flat OCV curve (LFP plateau) says little: scale the uncertainty by the local slope,
        # and where it is flatter than the chemistry's limit, it says nothing at all
        raw_slope = ocv_slope(self.chem, soc_ocv)
        slope = np.maximum(raw_slope, 1e-3)
        use = np.isfinite(v) & (raw_slope >= self.chem.ocv_min_slope)
        sigma_ocv = self.cfg.ocv_uncertainty * 0.2 / slope
        # Each later read of one rest is a better-relaxed read of the same curve, with the same
        # curve error: it replaces the earlier one instead of adding evidence to it.
        base_soc, base_sigma = self._rest_base
        gain = base_sigma**2 / (base_sigma**2 + sigma_ocv**2)
        soc = np.where(use, base_soc + gain * (np.nan_to_num(soc_ocv) - base_soc), self.soc)
        self.deficit_ah = (1.0 - soc) * self.capacity_ah
        self.sigma_soc = np.where(use, np.sqrt((1 - gain) * base_sigma**2), self.sigma_soc)
        self.known |= use

    # -- discharge: capacity learning and runtime ---------------------------------------------
    def start_discharge(self, t: float) -> None:
        self._dis_start, self._dis_ah, self._dis_counted = t, 0.0, True
        self._dis_cap_start = self.capacity_ah.copy()
        self._dis_deficit_start = self.deficit_ah.copy()
        # Capacity tables hold for the temperature a discharge starts at: its own heating
        # (I²R, most in a weak unit) is already part of them, so it must not count again.
        self._dis_temp_c = np.where(np.isfinite(self._temp_last), self._temp_last, 25.0)
        self._slope_fit.reset()
        self._trend_fit.reset()
        self._string_fit.reset()
        self._aligner.reset()
        self._aligned_t = -math.inf
        self.rate_rel = np.ones(self.spec.units)
        self._charge.reset()  # a charge cut short by this discharge never reached full

    def end_discharge(self, t_end: float, min_v: np.ndarray) -> float:
        """Commit what the discharge taught (``min_v``: each unit's lowest voltage in it); its Ah
        (NaN when the current was unknown for part of it: nothing is learnt then)."""
        if not self._dis_counted:
            self._dis_start = None
            return math.nan
        ah = self._dis_ah
        learns = self.cfg.learn_capacity and self.chem.lead_acid
        if learns and self._dis_start is not None and self._fit_weight() >= 1.0:
            depth = ah / float(np.median(self._dis_cap_start))
            self.capacity_weight += depth
            self.capacity_known[:] = True
        if self._dis_start is not None:
            self._learn_rate_law(t_end - self._dis_start, min_v)
        self._dis_start = None
        return ah

    def _learn_rate_law(self, duration_s: float, min_v: np.ndarray) -> None:
        """A unit that reached its end voltage shows what its capacity gave at this rate.

        The generic exponent is a textbook figure; a discharge run to the end measures the
        string's own: delivered = C · (I10 / I) ** (k − 1) at the discharge's mean current.
        """
        end_v = (self.chem.unit_eod_v_per_cell + END_MARGIN_V_PER_CELL) * self.cells
        # a unit whose capacity is unknown would blame the rate for what its capacity lacks
        ended = (np.nan_to_num(min_v, nan=np.inf) <= end_v) & self.capacity_known
        if not self.peukert_learns or not ended.any() or duration_s <= 0:
            return
        u = int(np.nanargmin(np.where(ended, min_v, np.nan)))
        current_a = self._dis_ah * 3600.0 / duration_s
        temp_factor = 1.0 + self.chem.capacity_temp_coeff_per_c * (self._dis_temp_c[u] - 25.0)
        given = (self._dis_ah + self._dis_deficit_start[u]) / (self.capacity_ah[u] * temp_factor)
        rate = self.capacity_ah[u] / 10.0 / max(current_a, 1e-6)  # I10 / I
        if not (0.2 < given < 1.0 and rate < 0.5):
            return  # not a high-rate discharge to the end, or inconsistent figures
        k = float(np.clip(1.0 + math.log(given) / math.log(rate), 1.0, 1.5))
        self.peukert = (self.peukert * self.peukert_weight + k) / (self.peukert_weight + 1.0)
        self.peukert_weight += 1.0

    def _fit_weight(self) -> float:
        """0→1 as the discharge deepens past the minimum depth for learning."""
        return self._depth_weight(self._dis_ah / float(np.median(self._dis_cap_start)))

    def _depth_weight(self, depth: float) -> float:
        """0 below the minimum depth for learning, 1 from twice that: a shallow curve shows little."""
        m = self.cfg.capacity_fit_min_depth
        return float(np.clip((depth - m) / m, 0.0, 1.0))

    def _blended(self, base_ah: np.ndarray, rel: np.ndarray, depth_w: float) -> np.ndarray:
        """Capacities from ``base_ah`` toward the median's × ``rel``, by evidence weight ``depth_w``
        against what earlier discharges and charges (and the rated value) taught."""
        fit_cap = float(np.median(base_ah)) * np.clip(rel, 0.3, 1.5)
        prior_w = self.capacity_weight + RATED_PRIOR_WEIGHT
        out: np.ndarray = (base_ah * prior_w + fit_cap * depth_w) / np.maximum(prior_w + depth_w, 1e-9)
        return out

    def _discharge_step(self, t: float, dt: float, current_a: float, v: np.ndarray) -> None:
        if self._dis_start is None:
            self.start_discharge(t)
        if not math.isfinite(current_a):
            # no current sensor (or lost): the Ah axis every fit stands on is unknown from here
            self._dis_counted = False
        if not self._dis_counted:
            return
        self._dis_ah += max(0.0, -current_a) * dt / 3600.0
        x = self._dis_ah
        assert self._dis_start is not None
        if t - self._dis_start < self.cfg.capacity_fit_start_s:
            return
        self._trend_fit.add(x, v, np.ones(v.size, bool), math.exp(-dt / TREND_TAU_S))
        if np.isfinite(v).all():
            self._string_fit.add(
                x, np.array([float(np.sum(v))]), np.ones(1, bool), math.exp(-dt / TREND_TAU_S)
            )
        self._aligner.add(x, v)
        if not self.chem.lead_acid and t - self._aligned_t >= ALIGN_EVERY_S:
            self._aligned_t = t
            self._align()
        if not (self.cfg.learn_capacity and self.chem.lead_acid):
            return  # a flat OCV curve (Li) makes the slopes meaningless
        self._slope_fit.add(x, v, 1.0 - self.soc < self.cfg.capacity_fit_max_depth)
        w = self._fit_weight()
        _, slope, ok = self._slope_fit.coefficients()
        ok &= slope < 0
        if w <= 0 or ok.sum() < max(3, self.spec.units // 2):
            return
        # Units of one design follow the same curve scaled by capacity, so the voltage falls
        # in inverse proportion to capacity: relative capacity = median slope / own slope.
        depth_w = w * self._dis_ah / float(np.median(self._dis_cap_start))
        new = self._blended(self._dis_cap_start, np.nanmedian(slope[ok]) / slope, depth_w)
        self.capacity_ah = np.where(ok, new, self.capacity_ah)

    # -- charge back to full: capacities where the discharge slope says nothing ---------------
    def _charge_curve_step(self, mode: Mode, current_a: float, v: np.ndarray) -> None:
        """Collect the charge curve; when the charge is back to full, learn capacities from it."""
        if self.chem.lead_acid or not self.cfg.learn_capacity:
            return  # lead-acid learns from discharge slopes; its charge curve is gassing, not capacity
        missing = float(np.median(self.deficit_ah))
        if mode is Mode.CHARGE and math.isfinite(current_a) and current_a > 0:
            self._charge.add(missing, v)
            return
        depth = self._charge.finish(missing, float(np.median(self.capacity_ah)))
        if depth is None:
            return  # no charge, or one that stopped short of full
        w = self._depth_weight(depth)
        if w <= 0:
            self._charge.reset()  # a top-up on float: too shallow to show any feature
            return
        rel = self._charge.relative_capacities()
        ok = np.isfinite(rel)
        if ok.sum() < max(3, self.spec.units // 2):
            return
        depth_w = w * depth
        self.capacity_ah = np.where(ok, self._blended(self.capacity_ah, rel, depth_w), self.capacity_ah)
        self.capacity_weight = np.where(ok, self.capacity_weight + depth_w, self.capacity_weight)
        self.capacity_known |= ok

    def _align(self) -> None:
        """Update ``rate_rel`` from the curve alignment, weighted by its standard error."""
        rel, se = self._aligner.estimate()
        ok = np.isfinite(rel)
        se = np.maximum(np.where(ok, se, np.inf), ALIGN_MIN_SE)
        w_prior = 1.0 / ALIGN_PRIOR_SIGMA**2
        w_new = np.where(ok, 1.0 / se**2, 0.0)
        self.rate_rel = (w_prior + w_new * np.nan_to_num(rel)) / (w_prior + w_new)

    def _available_ah(self, i: float, temp_c: np.ndarray) -> np.ndarray:
        """C10 capacity corrected for the discharge rate (Peukert) and temperature."""
        rate = np.minimum((self.capacity_ah / 10.0 / max(i, 1e-6)) ** (self.peukert - 1.0), 1.0)
        temp = np.nan_to_num(temp_c, nan=25.0)
        avail: np.ndarray = (
            self.capacity_ah
            * rate
            * np.clip(1.0 + self.chem.capacity_temp_coeff_per_c * (temp - 25.0), 0.3, 1.2)
        )
        return avail

    def runtime_s(self, current_a: float, v: np.ndarray, temp_c: np.ndarray) -> float:
        """Seconds at the present power until the first unit or the string reaches its end voltage."""
        if not math.isfinite(current_a) or current_a >= 0:
            return math.nan
        i = -current_a
        v_string = float(np.nansum(v)) if np.isfinite(v).any() else math.nan
        # rate- and temperature-dependent capacity (Peukert), minus what is already missing
        avail = self._available_ah(i, self._dis_temp_c if self._dis_start is not None else temp_c)
        remaining = float(np.min(avail - self.deficit_ah))
        # units of one design at one rate: a unit that runs through the curve faster than the
        # median (curve alignment) ends when the median has given that share of its charge
        if self._dis_start is not None and not self.chem.lead_acid:
            start = float(np.median(avail - self._dis_deficit_start))
            remaining = min(remaining, float(np.min(self.rate_rel)) * start - self._dis_ah)
        # the recent voltage trend, extrapolated to the end voltage, can only shorten that
        a, b, ok = self._trend_fit.coefficients()
        x = self._dis_ah
        eod = self.chem.unit_eod_v_per_cell * self.cells
        ok &= b < 0
        if ok.any():
            remaining = min(remaining, float(np.min(((eod - a[ok]) / b[ok]) - x)))
        cutoff = self.chem.string_cutoff_v_per_cell * self.cells * self.spec.units
        sa, sb, sok = self._string_fit.coefficients()
        v_end = v_string
        if sok[0] and sb[0] < 0:
            remaining = min(remaining, float((cutoff - sa[0]) / sb[0] - x))
            v_end = max(float(sa[0] + sb[0] * (x + max(remaining, 0.0))), cutoff)
        remaining = max(remaining, 0.0)
        # constant power: the current rises as the voltage falls
        if math.isfinite(v_string) and math.isfinite(v_end) and v_end > 0:
            i = i * v_string / (0.5 * (v_string + v_end))
        return remaining * 3600.0 / i

    # -- persistence --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity_ah": self.capacity_ah.tolist(),
            "capacity_known": self.capacity_known.tolist(),
            "capacity_weight": self.capacity_weight.tolist(),
            "deficit_ah": self.deficit_ah.tolist(),
            "soc_known": self.known.tolist(),
            "peukert": self.peukert,
            "peukert_weight": self.peukert_weight,
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        n = self.spec.units
        for key in ("capacity_ah", "capacity_known", "capacity_weight", "deficit_ah", "soc_known"):
            if key in d and len(d[key]) != n:
                raise ValueError(f"state {key} has {len(d[key])} values, the string has {n} units")
        if "capacity_ah" in d:
            self.capacity_ah = np.asarray(d["capacity_ah"], float)
        if "capacity_known" in d:
            self.capacity_known = np.asarray(d["capacity_known"], bool)
        if "capacity_weight" in d:
            self.capacity_weight = np.asarray(d["capacity_weight"], float)
        if "deficit_ah" in d:
            self.deficit_ah = np.asarray(d["deficit_ah"], float)
        if "soc_known" in d:
            self.known = np.asarray(d["soc_known"], bool)
        if self.peukert_learns and "peukert" in d:
            self.peukert, self.peukert_weight = float(d["peukert"]), float(d["peukert_weight"])
