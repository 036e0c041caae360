"""Per-unit health watchers: Ri baseline and trend, weak units under load, thermal runaway,
partial state of charge. Each keeps its own small state and returns findings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gateway.core.engine.config import HealthConfig, ThermalConfig
from gateway.core.engine.measurement import Finding, Mode


class RiTracker:
    """Each unit's Ri baseline (first readings after commissioning, or set by hand) and trend."""

    def __init__(self, n: int, cfg: HealthConfig) -> None:
        self.cfg = cfg
        self.baseline_ohm = np.full(n, math.nan)
        self.manual = np.zeros(n, bool)
        self._first = np.full((cfg.ri_baseline_samples, n), math.nan)
        self._first_count = np.zeros(n, int)
        self._recent = np.full((cfg.ri_trend_samples, n), math.nan)
        self._recent_pos = np.zeros(n, int)

    def add(self, ri_ohm: np.ndarray, mode: Mode) -> None:
        """Take the new readings (NaN = none); readings under load are not comparable, skip them."""
        if mode not in (Mode.FLOAT, Mode.REST):
            return
        new = np.isfinite(ri_ohm) & (ri_ohm > 0)
        if not new.any():
            return
        idx = np.nonzero(new)[0]
        self._recent[self._recent_pos[idx] % self._recent.shape[0], idx] = ri_ohm[idx]
        self._recent_pos[idx] += 1
        filling = idx[self._first_count[idx] < self._first.shape[0]]
        self._first[self._first_count[filling], filling] = ri_ohm[filling]
        self._first_count[filling] += 1
        done = (self._first_count >= self._first.shape[0]) & ~self.manual & np.isnan(self.baseline_ohm)
        if done.any():
            self.baseline_ohm[done] = np.nanmedian(self._first[:, done], axis=0)

    def set_baseline(self, unit: int | None, ohm: float | None) -> None:
        """Set a baseline by hand (``None`` value: forget it and learn again from new readings)."""
        sel = slice(None) if unit is None else unit
        if ohm is None:
            self.baseline_ohm[sel] = math.nan
            self.manual[sel] = False
            self._first[:, sel] = math.nan
            self._first_count[sel] = 0
        else:
            self.baseline_ohm[sel] = ohm
            self.manual[sel] = True

    def current(self) -> np.ndarray:
        """Median of the latest readings per unit (NaN before the first)."""
        have = np.isfinite(self._recent).any(axis=0)
        out = np.full(self._recent.shape[1], math.nan)
        if have.any():
            out[have] = np.nanmedian(self._recent[:, have], axis=0)
        return out

    def findings(self) -> list[Finding]:
        cfg, ri = self.cfg, self.current()
        out: list[Finding] = []
        rise = ri / self.baseline_ohm - 1.0
        for i in np.nonzero(np.nan_to_num(rise, nan=-1.0) >= cfg.ri_rise_warning)[0]:
            level = "alarm" if rise[i] >= cfg.ri_rise_alarm else "warning"
            out.append(
                Finding(
                    "ri_rise",
                    level,
                    int(i),
                    float(rise[i]),
                    f"Ri {ri[i] * 1e3:.2f} mOhm is {rise[i] * 100:.0f} % above baseline: check the capacity",
                )
            )
        if np.isfinite(ri).sum() >= 3:
            dev = ri / np.nanmedian(ri) - 1.0
            out.extend(
                Finding(
                    "ri_outlier",
                    "warning",
                    int(i),
                    float(dev[i]),
                    f"Ri {ri[i] * 1e3:.2f} mOhm is {dev[i] * 100:.0f} % above the string median",
                )
                for i in np.nonzero(np.nan_to_num(dev, nan=-1.0) >= cfg.ri_outlier)[0]
            )
        if cfg.ri_limit_ohm is not None:
            limit = cfg.ri_limit_ohm
            out.extend(
                Finding(
                    "ri_high",
                    "alarm",
                    int(i),
                    float(ri[i]),
                    f"Ri {ri[i] * 1e3:.2f} mOhm above the limit {limit * 1e3:.2f} mOhm",
                )
                for i in np.nonzero(np.nan_to_num(ri, nan=0.0) >= limit)[0]
            )
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "ri_baseline_ohm": [None if math.isnan(x) else float(x) for x in self.baseline_ohm],
            "ri_baseline_manual": self.manual.tolist(),
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        if "ri_baseline_ohm" in d:
            self.baseline_ohm = np.array([math.nan if x is None else x for x in d["ri_baseline_ohm"]], float)
            self._first_count[np.isfinite(self.baseline_ohm)] = self._first.shape[0]
        if "ri_baseline_manual" in d:
            self.manual = np.asarray(d["ri_baseline_manual"], bool)


class WeakUnitDetector:
    """Under load, a unit whose voltage falls away from the string median."""

    def __init__(self, n: int, cfg: HealthConfig, drop_v_per_cell: float, cells: int) -> None:
        self.hold_s = cfg.weak_unit_hold_s
        self.threshold_v = drop_v_per_cell * cells
        self.min_z = cfg.weak_unit_min_z
        self._below_since = np.full(n, math.nan)

    def update(self, t: float, mode: Mode, v: np.ndarray) -> list[Finding]:
        if mode is not Mode.DISCHARGE or np.isfinite(v).sum() < 3:
            self._below_since[:] = math.nan
            return []
        dev = v - np.nanmedian(v)
        # both far in volts and far out of the string's own spread (robust z-score)
        spread = max(1.4826 * float(np.nanmedian(np.abs(dev))), 1e-6)
        below = (np.nan_to_num(dev, nan=0.0) < -self.threshold_v) & (
            np.nan_to_num(dev, nan=0.0) / spread < -self.min_z
        )
        since = np.where(below, np.where(np.isnan(self._below_since), t, self._below_since), math.nan)
        # a lost reply says nothing either way: it must not restart the hold time
        self._below_since = np.where(np.isfinite(dev), since, self._below_since)
        weak = below & (t - self._below_since >= self.hold_s)
        return [
            Finding(
                "weak_unit",
                "alarm",
                int(i),
                float(dev[i]),
                f"falls {-dev[i]:.3f} V below the string median under load",
            )
            for i in np.nonzero(weak)[0]
        ]


class ThermalWatch:
    """Thermal runaway: a unit much warmer than its neighbours that heats itself.

    Self-heating shows in one of two ways. A whole string running away draws more float current
    (it doubles per ~10 K). One unit running away on a series string hardly moves the string
    current (the charger holds the sum of the voltages, so the string current follows the
    geometric mean of the units' float currents); it heats from a current inside it (soft short,
    dry-out), which pulls its own float voltage down below the others'.
    """

    def __init__(self, n: int, cfg: ThermalConfig, rest_current_a: float, cells: int = 1) -> None:
        self.cfg = cfg
        self.rest_current_a = rest_current_a
        self.cells = cells
        self._hot_since = np.full(n, math.nan)
        self._i_fast = math.nan  # float current, minutes
        self._i_base = math.nan  # float current, a day

    def update(
        self,
        t: float,
        dt: float,
        mode: Mode,
        current_a: float,
        ambient_c: float,
        temp_c: np.ndarray,
        voltage_v: np.ndarray | None = None,
    ) -> list[Finding]:
        out: list[Finding] = []
        floating = mode in (Mode.FLOAT, Mode.CHARGE) and math.isfinite(current_a)
        if floating:
            self._i_fast = (
                current_a
                if math.isnan(self._i_fast)
                else self._i_fast + (current_a - self._i_fast) * min(1.0, dt / 600.0)
            )
            if math.isnan(self._i_base):
                self._i_base = current_a
        if np.isfinite(temp_c).sum() >= 3:
            ref = float(np.nanmedian(temp_c))
        elif math.isfinite(ambient_c):
            ref = ambient_c
        else:
            return out
        excess = temp_c - ref
        hot = np.nan_to_num(excess, nan=0.0) >= self.cfg.margin_c
        rising = (
            floating
            and self._i_fast > self.rest_current_a
            and self._i_fast > self._i_base * (1.0 + self.cfg.current_rise)
        )
        if floating and not hot.any() and not rising:  # learn the normal float current slowly
            self._i_base += (self._i_fast - self._i_base) * min(1.0, dt / 86400.0)
        sag = self._sag_v_per_cell(voltage_v) if floating else np.zeros(len(hot))
        sagging = (
            np.nan_to_num(sag, nan=0.0) >= self.cfg.sag_v_per_cell
            if self.cfg.sag_v_per_cell is not None
            else np.zeros(len(hot), bool)
        )
        cond = hot & (rising | sagging)
        self._hot_since = np.where(cond, np.where(np.isnan(self._hot_since), t, self._hot_since), math.nan)
        action = f"; action: {self.cfg.action}" if self.cfg.action else ""
        for i in np.nonzero(hot)[0]:
            if cond[i] and t - self._hot_since[i] >= self.cfg.hold_s:
                why = (
                    f"the float current rising ({self._i_fast:.2f} A vs {self._i_base:.2f} A)"
                    if rising
                    else f"its float voltage {sag[i] * 1000:.0f} mV/cell below the string"
                )
                out.append(
                    Finding(
                        "thermal_runaway",
                        "alarm",
                        int(i),
                        float(excess[i]),
                        f"{excess[i]:.1f} °C above the string with {why}{action}",
                    )
                )
            else:
                out.append(
                    Finding(
                        "unit_hot",
                        "warning",
                        int(i),
                        float(excess[i]),
                        f"{excess[i]:.1f} °C warmer than the rest of the string",
                    )
                )
        return out

    def _sag_v_per_cell(self, voltage_v: np.ndarray | None) -> np.ndarray:
        """How far each unit's voltage sits below the string median, V/cell (NaN: unknown)."""
        if voltage_v is None or np.isfinite(voltage_v).sum() < 3:
            return np.full(len(self._hot_since), math.nan)
        return (float(np.nanmedian(voltage_v)) - voltage_v) / self.cells

    @property
    def float_current_baseline_a(self) -> float:
        return self._i_base


class PsocTracker:
    """Partial state of charge: not back to full since the last discharge."""

    def __init__(self, n: int, cfg: HealthConfig) -> None:
        self.cfg = cfg
        self.active = np.zeros(n, bool)
        self.since = np.full(n, math.nan)
        self.ah = np.zeros(n)  # throughput since the last full charge

    def update(self, t: float, soc: np.ndarray, ah_step: np.ndarray) -> list[Finding]:
        self.ah += np.abs(ah_step)
        full = soc >= 0.999
        enter = ~self.active & (soc < 1.0 - self.cfg.psoc_min_depth)
        self.since = np.where(enter, t, self.since)
        self.active = (self.active | enter) & ~full
        self.ah = np.where(full, 0.0, self.ah)
        self.since = np.where(self.active, self.since, math.nan)
        long = self.active & (t - np.nan_to_num(self.since, nan=t) > self.cfg.psoc_max_s)
        return [
            Finding(
                "psoc_too_long",
                "warning",
                int(i),
                float(t - self.since[i]),
                f"in partial state of charge for {(t - self.since[i]) / 3600:.0f} h: sulfation risk, "
                "give it a full charge",
            )
            for i in np.nonzero(long)[0]
        ]

    def time_s(self, t: float) -> np.ndarray:
        return np.where(self.active, t - np.nan_to_num(self.since, nan=t), 0.0)

    def state_dict(self) -> dict[str, Any]:
        return {
            "psoc_active": self.active.tolist(),
            "psoc_since": [None if math.isnan(x) else float(x) for x in self.since],
            "psoc_ah": self.ah.tolist(),
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        if "psoc_active" in d:
            self.active = np.asarray(d["psoc_active"], bool)
        if "psoc_since" in d:
            self.since = np.array([math.nan if x is None else x for x in d["psoc_since"]], float)
        if "psoc_ah" in d:
            self.ah = np.asarray(d["psoc_ah"], float)
