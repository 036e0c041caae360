"""Float-voltage equalization: a bypass duty per unit from the filtered unit voltages.

Integral action with a deadband and hysteresis, its gain scaled by the float current over the
Tafel slope (how much one ampere of bypass moves a unit's voltage), so the loop settles in
``response_time_s`` on any string size. Paused outside float/charge, during a unit's Ri pulse,
on hot units, below the floor voltage, and until a scheduled date.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gateway.core.engine.chemistry import ChemistryParams, MonitorModel
from gateway.core.engine.config import EqualizationConfig
from gateway.core.engine.measurement import Finding, Mode


class Equalizer:
    """Bypass duties for one string."""

    def __init__(
        self,
        n: int,
        cells: int,
        c10_a: float,
        cfg: EqualizationConfig,
        chem: ChemistryParams,
        model: MonitorModel,
        rest_current_a: float,
    ) -> None:
        self.cfg, self.cells, self.chem = cfg, cells, chem
        self.bypass_a = model.bypass_a
        self.floor_v_per_cell = cfg.floor_v_per_cell or chem.eq_floor_v_per_cell
        self.typical_float_a = chem.float_current_a_per_ah * c10_a * 10.0
        #: below this the current sensor's offset hides the float current
        self.rest_current_a = rest_current_a
        self.enabled = cfg.enabled
        self.paused_until = cfg.paused_until_t_s
        self.bypass_cmd_a = np.zeros(n)
        self.duty = np.zeros(n)
        self._v_filt = np.full(n, math.nan)
        self._last_t: float | None = None
        self._last_update: float | None = None
        self._current_a = math.nan
        self._out_since = np.full(n, math.nan)
        self._float_base_a = math.nan
        self._float_now_a = math.nan

    # -- commands ---------------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if not on:
            self.bypass_cmd_a[:] = 0.0

    def pause_until(self, t_s: float | None) -> None:
        self.paused_until = t_s

    # -- per cycle ----------------------------------------------------------------------------
    def update(
        self,
        t: float,
        mode: Mode,
        current_a: float,
        v: np.ndarray,
        temp_c: np.ndarray,
        ri_measuring: np.ndarray | None,
    ) -> list[Finding]:
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        fresh = np.isfinite(v)
        k = 1.0 if self.cfg.filter_s <= 0 else min(1.0, dt / self.cfg.filter_s)
        init = fresh & np.isnan(self._v_filt)
        self._v_filt = np.where(init, v, self._v_filt)
        self._v_filt = np.where(fresh & ~init, self._v_filt + k * (v - self._v_filt), self._v_filt)
        if math.isfinite(current_a):
            self._current_a = current_a
            self._track_float_current(dt, mode, current_a)
        paused = self.paused_until is not None and t < self.paused_until
        if not self.enabled or paused or mode not in (Mode.FLOAT, Mode.CHARGE):
            if mode is Mode.DISCHARGE or not self.enabled:
                self.bypass_cmd_a[:] = 0.0  # after a discharge the balance starts over
            self.duty = np.zeros_like(self.duty)
            self._out_since[:] = math.nan
            return []
        if self._last_update is None or t - self._last_update >= self.cfg.min_interval_s:
            self._control(t - (self._last_update if self._last_update is not None else t), temp_c)
            self._last_update = t
        duty = self.bypass_cmd_a / self.bypass_a
        if ri_measuring is not None:
            duty = np.where(ri_measuring, 0.0, duty)  # the Ri pulse must not see a bypass
        self.duty = np.clip(np.round(duty, 3), 0.0, 1.0)
        return self._error_findings(t)

    def _target(self, vc: np.ndarray, temp_c: np.ndarray) -> float:
        cfg = self.cfg
        median = float(np.nanmedian(vc))
        if cfg.charger_v_per_cell is not None:
            target = cfg.charger_v_per_cell
        elif cfg.strategy == "spread":
            target = min(median, self._lowest_ordinary(vc, temp_c, median) + cfg.max_spread_v_per_cell)
        elif cfg.strategy == "median":
            target = median
        elif cfg.strategy == "full":
            target = self._lowest_ordinary(vc, temp_c, median)
        else:  # mean: measured string voltage / N
            target = float(np.nanmean(vc))
        return max(target, self.floor_v_per_cell + cfg.deadband_v_per_cell)

    def _lowest_ordinary(self, vc: np.ndarray, temp_c: np.ndarray, median: float) -> float:
        """The lowest unit the string can be equalized toward.

        The charger holds the string's sum, so pulling units down lifts the others, the lowest
        too, by raising the string current. A unit far below the rest (a shorted cell) cannot be
        lifted that way, and a warm unit floats low because it is warm (its float current doubles
        per ~10 K): pulling the string toward either would heat the resistors, and push more
        current through the warm unit. Neither counts.
        """
        cfg = self.cfg
        ordinary = np.nan_to_num(vc, nan=-np.inf) >= median - cfg.outlier_v_per_cell
        if np.isfinite(temp_c).sum() >= 3:
            warm = np.nan_to_num(temp_c, nan=-np.inf) > np.nanmedian(temp_c) + cfg.warm_margin_c
            ordinary &= ~warm
        return float(np.min(vc[ordinary])) if ordinary.any() else median

    def _control(self, dt: float, temp_c: np.ndarray) -> None:
        cfg = self.cfg
        vc = self._v_filt / self.cells
        if np.isfinite(vc).sum() < 2 or dt <= 0:
            return
        self._error = vc - self._target(vc, temp_c)
        e = np.nan_to_num(self._error, nan=0.0)
        # 1 A of bypass lowers a unit by ~ Tafel slope / float current (V/cell): scale the gain.
        # A float current within the sensor's offset is not measured: the chemistry's typical one
        # stands in (a Li string floats at ~40 µA/Ah; taking 1 mA/Ah made its loop 25× too fast,
        # and it swung units from bottom to top instead of settling).
        i = self._current_a if math.isfinite(self._current_a) else 0.0
        i_s = i if i > self.rest_current_a else self.typical_float_a
        gain = i_s / (self.chem.tafel_v_per_cell * cfg.response_time_s)  # A per (V/cell) per s
        up = e - cfg.deadband_v_per_cell
        down = e - (cfg.deadband_v_per_cell - cfg.hysteresis_v_per_cell)
        step = np.where(up > 0, up, np.where(down < 0, down, 0.0)) * gain * dt
        u = self.bypass_cmd_a + step
        below_floor = np.nan_to_num(vc, nan=np.inf) < self.floor_v_per_cell
        u = np.where(below_floor, 0.5 * u, u)
        too_hot = np.nan_to_num(temp_c, nan=-np.inf) > cfg.max_temperature_c
        u = np.where(too_hot, 0.0, u)
        # The charger holds the string's sum: a bypass that every unit carries moves no unit
        # against another, it only adds charger current and heat. When the lowest unit swaps
        # back and forth (noise, an Ri pulse on a steep Li knee) every integrator winds up in
        # turn; the common part is taken off so the unit with the least bypass has none.
        u = np.clip(u, 0.0, self.bypass_a)
        if np.isfinite(vc).all():
            u -= float(np.min(u))
        self.bypass_cmd_a = u

    def _error_findings(self, t: float) -> list[Finding]:
        err = getattr(self, "_error", None)
        if err is None:
            return []
        out_of_band = (self.duty >= 0.999) & (np.nan_to_num(err, nan=0.0) > self.cfg.deadband_v_per_cell)
        self._out_since = np.where(
            out_of_band, np.where(np.isnan(self._out_since), t, self._out_since), math.nan
        )
        bad = out_of_band & (t - self._out_since >= self.cfg.error_hold_s)
        return [
            Finding(
                "equalization_error",
                "warning",
                int(i),
                float(err[i] * self.cells),
                f"{err[i] * 1000:.0f} mV/cell above target at full bypass",
            )
            for i in np.nonzero(bad)[0]
        ]

    def _track_float_current(self, dt: float, mode: Mode, current_a: float) -> None:
        if mode is not Mode.FLOAT:
            return
        k = min(1.0, dt / 1800.0)
        self._float_now_a = (
            current_a
            if math.isnan(self._float_now_a)
            else self._float_now_a + k * (current_a - self._float_now_a)
        )
        if not self.bypass_cmd_a.any():
            self._float_base_a = self._float_now_a

    # -- costs -------------------------------------------------------------------------------
    def bypass_power_w(self, v: np.ndarray) -> float:
        return float(np.nansum(self.duty * self.bypass_a * np.where(np.isfinite(v), v, self._v_filt)))

    def float_current_increase_a(self) -> float:
        """Extra charger current the bypass costs: measured against the float current before it,
        or, until that is known, the mean bypass current (each bypassed ampere returns as charge)."""
        if math.isfinite(self._float_base_a) and math.isfinite(self._float_now_a):
            return max(0.0, self._float_now_a - self._float_base_a)
        return float(np.mean(self.duty * self.bypass_a))

    def state_dict(self) -> dict[str, Any]:
        return {"eq_enabled": self.enabled, "eq_paused_until": self.paused_until}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.enabled = bool(d.get("eq_enabled", self.enabled))
        self.paused_until = d.get("eq_paused_until", self.paused_until)
