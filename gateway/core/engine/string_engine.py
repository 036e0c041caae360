"""The per-string engine: one ``step()`` per bus cycle turns a measurement into an estimate.

It tells float, charge, rest and discharge apart, runs the SOC/capacity estimator, the health
watchers and the equalizer, reports discharges, and remembers when each finding first appeared.
The live engine, ``cellgate replay`` and ``cellgate cosim`` all drive this same class.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gateway.core.engine.chemistry import chemistry, monitor_model
from gateway.core.engine.config import EngineConfig
from gateway.core.engine.equalization import Equalizer
from gateway.core.engine.health import PsocTracker, RiTracker, ThermalWatch, WeakUnitDetector
from gateway.core.engine.measurement import (
    DischargeReport,
    Finding,
    Measurement,
    Mode,
    StringEstimate,
    StringSpec,
    duty_levels,
)
from gateway.core.engine.soc import SocEstimator
from gateway.core.engine.voltage_mode import VoltageModeGuess

STATE_VERSION = 1


class StringEngine:
    """Estimation and control of one series string."""

    def __init__(self, spec: StringSpec, config: EngineConfig | None = None) -> None:
        self.spec = spec
        self.config = config or EngineConfig()
        self.chem = chemistry(spec.chemistry)
        self.model = monitor_model(spec.model)
        n, cells = spec.units, spec.cells_per_unit
        hc = self.config.health
        self.soc = SocEstimator(spec, self.config, self.chem)
        self.ri = RiTracker(n, hc)
        self.weak = WeakUnitDetector(
            n, hc, hc.weak_unit_drop_v_per_cell or self.chem.weak_drop_v_per_cell, cells
        )
        dc = self.config.discharge
        self.thermal = ThermalWatch(
            n,
            self.config.thermal,
            max(dc.rest_current_a, dc.rest_current_c * spec.rated_capacity_ah),
            cells,
        )
        self.psoc = PsocTracker(n, hc)
        c10_a = spec.rated_capacity_ah / 10.0
        self.threshold_a = max(dc.min_current_a, dc.current_c * spec.rated_capacity_ah)
        self.rest_current_a = max(dc.rest_current_a, dc.rest_current_c * spec.rated_capacity_ah)
        self.eq = Equalizer(
            n, cells, c10_a, self.config.equalization, self.chem, self.model, self.rest_current_a
        )
        self.mode = Mode.REST
        self.by_voltage = VoltageModeGuess(self.chem, cells)
        self._t: float | None = None
        self._current = math.nan
        self._current_t: float | None = None
        self._v = np.full(n, math.nan)
        self._temp = np.full(n, math.nan)
        self._above_since: float | None = None
        self._dis: dict[str, Any] | None = None
        self.first_flags: list[dict[str, float]] = [{} for _ in range(n)]
        self.string_flags: dict[str, float] = {}
        self.discharges: list[DischargeReport] = []
        self._ri_requests: set[int] = set()
        self.ri_suspended_until: float | None = None

    # -- the cycle ----------------------------------------------------------------------------
    def step(self, m: Measurement) -> StringEstimate:
        """Fold one measurement in; returns the estimate, findings and requested duties."""
        n = self.spec.units
        for name in ("voltage_v", "temperature_c", "ri_ohm"):
            if np.shape(getattr(m, name)) != (n,):
                raise ValueError(f"measurement {name} must have {n} values, got {np.shape(getattr(m, name))}")
        t = float(m.t_s)
        dt = 0.0 if self._t is None else t - self._t
        if dt < 0:
            raise ValueError(f"time went backwards: {t} after {self._t}")
        prev_i = self._current
        if math.isfinite(m.current_a):
            self._current, self._current_t = float(m.current_a), t
        elif self._current_t is None or t - self._current_t > self.config.discharge.current_hold_s:
            self._current = math.nan  # the sensor is lost (or none is fitted): counting stops
        i_now = self._current
        i_avg = 0.5 * (prev_i + i_now) if math.isfinite(prev_i) else i_now
        fresh = np.isfinite(m.voltage_v)
        self._v = np.where(fresh, m.voltage_v, self._v)
        self._temp = np.where(np.isfinite(m.temperature_c), m.temperature_c, self._temp)
        v, temp = self._v, self._temp
        raw = self._raw_mode(t, i_now, v)
        reports = self._update_mode(t, raw)
        if m.bypass_current_a is not None:
            bypass = np.nan_to_num(np.asarray(m.bypass_current_a, float), nan=0.0)
        else:
            bypass = self.eq.duty * self.eq.bypass_a  # what the monitors applied since last cycle
        unit_i = (i_avg if math.isfinite(i_avg) else 0.0) - bypass
        if math.isfinite(i_avg) and abs(i_avg) <= self.rest_current_a:
            unit_i = -bypass  # zero within the sensor's offset: do not integrate the offset
        if dt > 0:
            self.soc.update(t, dt, i_avg, unit_i, self.mode, v, temp, raw is Mode.DISCHARGE)
        if self._dis is not None:
            self._dis["min_v"] = np.fmin(self._dis["min_v"], v)
            if np.isfinite(v).all():
                self._dis["min_string_v"] = min(self._dis["min_string_v"], float(np.sum(v)))
        self.ri.add(np.asarray(m.ri_ohm, float), self.mode)
        soc = self.soc.soc
        findings: list[Finding] = []
        findings += self.ri.findings()
        findings += self.weak.update(t, self.mode, np.where(fresh, v, np.nan))
        # the last known voltages, not only this cycle's: the sag must hold over the hold time
        findings += self.thermal.update(t, dt, self.mode, m.current_a, m.ambient_c, temp, v)
        findings += self.psoc.update(t, soc, unit_i * dt / 3600.0)
        findings += self._capacity_findings()
        ri_hold = np.zeros(n, bool)
        if m.ri_measuring is not None:
            ri_hold |= np.asarray(m.ri_measuring, bool)
        if self._ri_requests:
            ri_hold[list(self._ri_requests)] = True
        findings += self.eq.update(t, self.mode, i_now, v, temp, ri_hold)
        self._remember(t, findings)
        runtime = self.soc.runtime_s(i_now, v, temp) if raw is Mode.DISCHARGE else math.nan
        self._t = t
        shown_soc, string_soc = self.soc.shown_soc()
        return StringEstimate(
            t_s=t,
            mode=self.mode,
            soc=shown_soc,
            string_soc=string_soc,
            runtime_s=runtime,
            soh=self.soc.soh(),
            capacity_ah=self.soc.capacity_ah.copy(),
            psoc=self.psoc.active.copy(),
            psoc_time_s=self.psoc.time_s(t),
            psoc_ah=np.where(self.psoc.active, self.psoc.ah, 0.0),
            ri_baseline_ohm=self.ri.baseline_ohm.copy(),
            duty=self.eq.duty.copy(),
            duty_level=duty_levels(self.eq.duty),
            bypass_power_w=self.eq.bypass_power_w(v),
            float_current_increase_a=self.eq.float_current_increase_a(),
            findings=findings,
            discharge_reports=reports,
        )

    def _raw_mode(self, t: float, i: float, v: np.ndarray) -> Mode:
        """Mode from the string current and, when it is small, the voltage.

        A string on float draws ~1 mA/Ah, often within the current sensor's offset, so a small
        current alone cannot tell float from rest: a charger holds the units well above their
        relaxed OCV (lead-acid > 2.20 V/cell), a string at rest sits near it.
        """
        if not math.isfinite(i):
            # equalization and the weak-unit check need only voltages: they go on without a sensor
            return self.by_voltage.mode(t, self.mode, v)
        self.by_voltage.reset()
        if i < -self.threshold_a:
            return Mode.DISCHARGE
        if i > self.threshold_a:
            return Mode.CHARGE
        if np.isfinite(v).any():
            held = float(np.nanmedian(v)) / self.spec.cells_per_unit >= self.chem.charger_v_per_cell
            return Mode.FLOAT if held and i > -self.rest_current_a else Mode.REST
        return Mode.FLOAT if i > self.rest_current_a else Mode.REST

    def _update_mode(self, t: float, raw: Mode) -> list[DischargeReport]:
        if raw is Mode.DISCHARGE:
            self._above_since = None
            if self.mode is not Mode.DISCHARGE:
                self.mode = Mode.DISCHARGE
                self.soc.start_discharge(t)
                n = self.spec.units
                self._dis = {"t0": t, "min_v": np.full(n, math.nan), "min_string_v": math.inf}
            return []
        if self.mode is Mode.DISCHARGE:
            if self._above_since is None:
                self._above_since = t
            if t - self._above_since < self.config.discharge.end_hold_s:
                return []
            self.mode = raw
            return [self._close_discharge(self._above_since)]
        self.mode = raw
        return []

    def _close_discharge(self, t_end: float) -> DischargeReport:
        d = self._dis or {"t0": t_end, "min_v": np.full(self.spec.units, math.nan), "min_string_v": math.nan}
        self._dis = None
        ah = self.soc.end_discharge(t_end, d["min_v"])
        min_v = d["min_v"]
        weakest = int(np.nanargmin(min_v)) if np.isfinite(min_v).any() else 0
        rep = DischargeReport(
            t_start_s=d["t0"],
            t_end_s=t_end,
            ah=ah,
            min_string_voltage_v=float(d["min_string_v"]) if math.isfinite(d["min_string_v"]) else math.nan,
            min_voltage_v=tuple(float(x) for x in min_v),
            weakest_unit=weakest,
            depth=ah / float(np.min(self.soc.capacity_ah)),
        )
        self.discharges.append(rep)
        return rep

    def _capacity_findings(self) -> list[Finding]:
        hc, soh = self.config.health, self.soc.soh()
        out = []
        for i in np.nonzero(np.nan_to_num(soh, nan=1.0) < hc.low_capacity_warning)[0]:
            level = "alarm" if soh[i] < hc.low_capacity_alarm else "warning"
            out.append(
                Finding(
                    "low_capacity",
                    level,
                    int(i),
                    float(soh[i]),
                    f"capacity {self.soc.capacity_ah[i]:.1f} Ah = {soh[i] * 100:.0f} % of rated",
                )
            )
        return out

    def _remember(self, t: float, findings: list[Finding]) -> None:
        for f in findings:
            flags = self.string_flags if f.unit is None else self.first_flags[f.unit]
            flags.setdefault(f.code, t)

    # -- commands -----------------------------------------------------------------------------
    def set_equalization(self, enabled: bool) -> None:
        """Enable or disable the bypass (disabled: every duty 0 at once)."""
        self.eq.set_enabled(enabled)

    def pause_equalization_until(self, t_s: float | None) -> None:
        """Scheduled pause: no bypass before ``t_s`` (None: resume)."""
        self.eq.pause_until(t_s)

    def request_ri(self, units: list[int] | None = None) -> None:
        """Ask for an Ri measurement (0-based units, None = all): their bypass stops until taken."""
        self._ri_requests |= set(range(self.spec.units) if units is None else units)

    def take_ri_requests(self, t_s: float) -> list[int]:
        """Units whose Ri measurement may start now (bypass already off); clears them."""
        if self.ri_suspended_until is not None and t_s < self.ri_suspended_until:
            return []
        if self.mode not in (Mode.FLOAT, Mode.REST):
            return []
        ready = sorted(i for i in self._ri_requests if self.eq.duty[i] == 0.0)
        self._ri_requests -= set(ready)
        return ready

    def suspend_ri(self, until_t_s: float | None) -> None:
        """No Ri measurements before ``until_t_s`` (None: allow again)."""
        self.ri_suspended_until = until_t_s

    def set_ri_baseline(self, unit: int | None, ohm: float | None) -> None:
        """Set a unit's (or every unit's) Ri baseline by hand; None learns it again."""
        if unit is not None and not 0 <= unit < self.spec.units:
            raise ValueError(f"unit {unit} out of 0..{self.spec.units - 1}")
        self.ri.set_baseline(unit, ohm)

    # -- outputs ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The replay ``summary.json`` content: per-unit SOH, capacity, Ri baseline, first flags."""
        soh, cap = self.soc.soh(), self.soc.capacity_ah
        units = []
        for i in range(self.spec.units):
            known = bool(self.soc.capacity_known[i])
            base = self.ri.baseline_ohm[i]
            units.append(
                {
                    "position": i + 1,
                    "soh": round(float(soh[i]), 4) if known else None,
                    "capacity_ah": round(float(cap[i]), 3) if known else None,
                    "ri_baseline_ohm": None if math.isnan(base) else round(float(base), 7),
                    "flags": [
                        {"code": c, "t_s": tt}
                        for c, tt in sorted(self.first_flags[i].items(), key=lambda kv: kv[1])
                    ],
                }
            )
        return {
            "units": units,
            "string_flags": [{"code": c, "t_s": tt} for c, tt in self.string_flags.items()],
            "discharges": [d.as_dict() for d in self.discharges],
        }

    def state_dict(self) -> dict[str, Any]:
        """What the live engine persists: learnt capacities, Ri baselines, PSOC state."""
        return {
            "version": STATE_VERSION,
            "units": self.spec.units,
            **self.soc.state_dict(),
            **self.ri.state_dict(),
            **self.psoc.state_dict(),
            **self.eq.state_dict(),
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        if d.get("version") != STATE_VERSION or d.get("units") != self.spec.units:
            raise ValueError(
                f"engine state is for {d.get('units')} units (version {d.get('version')}), "
                f"this string has {self.spec.units}"
            )
        self.soc.load_state_dict(d)
        self.ri.load_state_dict(d)
        self.psoc.load_state_dict(d)
        self.eq.load_state_dict(d)
