"""Resolved limits of every alarm kind for a site, string or unit: defaults, then overrides.

Order, later wins: chemistry/model default → ``alarms.thresholds`` → runtime (set_threshold)
site value → string settings → runtime string value → unit settings → runtime unit value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from gateway.core.alarms.kinds import (
    CHEMISTRIES,
    KINDS,
    MODEL_NOMINAL_V,
    TEMP_COMP_RANGE_C,
    TEMP_COMP_REFERENCE_C,
    Chemistry,
    cells_per_unit,
)
from gateway.core.alarms.settings import AlarmSettings, ThresholdOverride

SETTABLE_FIELDS = ("warning", "alarm", "hysteresis", "delay_s", "clear_delay_s", "enabled", "latching")

#: which alarm an on/off kind raises unless configured otherwise
FLAG_LEVELS = {
    "string_discharging": "warning",
    "sensor_fault": "warning",
    "string_current_over_range": "warning",
    "alarm_flood": "warning",
    "unit_identity_mismatch": "warning",
    "psoc_too_long": "warning",
    "low_capacity": "warning",
}

_KEY = re.compile(r"^(?:strings\[(\d+)\]\.(?:units\[(\d+)\]\.)?)?(\w+)\.(\w+)$")


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for one alarm kind at one place."""

    enabled: bool = True
    warning: float | None = None
    alarm: float | None = None
    hysteresis: float = 0.0
    delay_s: float = 0.0
    clear_delay_s: float = 0.0
    latching: bool = False
    level: str = "alarm"  # for on/off kinds


@dataclass(frozen=True, slots=True)
class StringProfile:
    """What the defaults of one string depend on."""

    name: str
    chemistry: Chemistry
    cells: int  # cells per unit
    count: int  # units in series
    rated_capacity_ah: float
    model: str


def string_profiles(config: Any) -> list[StringProfile]:
    """Profiles of the root config's strings (anything with ``.strings[i].chemistry`` etc.)."""
    out = []
    for s in getattr(config, "strings", []) or []:
        chem_name = getattr(s.chemistry, "value", s.chemistry)
        chem = CHEMISTRIES[str(chem_name)]
        model = s.units.model
        nominal = getattr(s, "nominal_voltage_v", None) or MODEL_NOMINAL_V.get(model, chem.cell_nominal_v)
        out.append(
            StringProfile(
                s.name, chem, cells_per_unit(chem, nominal), s.units.count, float(s.rated_capacity_ah), model
            )
        )
    return out


def default_limits(code: str, p: StringProfile | None) -> Limits:
    """The default for one kind, scaled to a string's units (site kinds: ``p`` may be None)."""
    kind = KINDS[code]
    base = Limits(
        delay_s=kind.delay_s,
        clear_delay_s=kind.clear_delay_s,
        latching=kind.latching,
        level=FLAG_LEVELS.get(code, "alarm"),
    )
    if kind.direction == "flag":
        return base
    if code == "ambient_humidity_high":
        return replace(base, warning=80.0, alarm=90.0, hysteresis=5.0)
    if code == "unit_ri_rise":
        return replace(base, warning=0.20, alarm=0.50, hysteresis=0.05)
    if code == "unit_ri_high":  # depends on the battery's size: off until the site sets it
        return base
    if code == "unit_temperature_deviation":
        return replace(base, warning=3.0, alarm=5.0, hysteresis=1.0)
    chem = p.chemistry if p else CHEMISTRIES["vrla"]
    cells = p.cells if p else 1
    pair: tuple[float, float]
    if code.startswith("ambient_temperature"):
        pair = chem.ambient_high_c if code.endswith("high") else chem.ambient_low_c
        return replace(base, warning=pair[0], alarm=pair[1], hysteresis=2.0)
    if code.startswith("unit_temperature"):
        pair = chem.unit_temp_high_c if code.endswith("high") else chem.unit_temp_low_c
        return replace(base, warning=pair[0], alarm=pair[1], hysteresis=2.0)
    volts = {
        "unit_voltage_high": (chem.cell_high_v, 0.02),
        "unit_voltage_low": (chem.cell_float_low_v, 0.02),
        "unit_discharge_voltage_low": (chem.cell_discharge_low_v, 0.05),
        "unit_voltage_deviation": (chem.cell_deviation_v, 0.01),
    }
    if code in volts:
        (w, a), h = volts[code]
        return replace(base, warning=w * cells, alarm=a * cells, hysteresis=h * cells)
    if code.startswith("string_voltage"):
        n = cells * (p.count if p else 1)
        w, a = chem.cell_string_high_v if code.endswith("high") else chem.cell_string_low_v
        return replace(base, warning=w * n, alarm=a * n, hysteresis=0.02 * n)
    c10 = p.rated_capacity_ah if p else 100.0
    rates = {
        "string_charge_current_high": chem.charge_c10,
        "string_discharge_current_high": chem.discharge_c10,
        "string_ripple_high": chem.ripple_c10,
    }
    w, a = rates[code]
    return replace(base, warning=w * c10, alarm=a * c10, hysteresis=0.05 * w * c10)


def temperature_offset_v(p: StringProfile, temperature_c: float | None, cells: int) -> float:
    """How far lead-acid/NiCd voltage limits move at this temperature (0 at 25 °C)."""
    if temperature_c is None or not p.chemistry.temp_comp_v_per_c:
        return 0.0
    t = min(max(temperature_c, TEMP_COMP_RANGE_C[0]), TEMP_COMP_RANGE_C[1])
    return p.chemistry.temp_comp_v_per_c * cells * (t - TEMP_COMP_REFERENCE_C)


def _apply(limits: Limits, o: ThresholdOverride | dict[str, Any] | None) -> Limits:
    if not o:
        return limits
    values = o if isinstance(o, dict) else o.model_dump(exclude_none=True)
    return replace(limits, **{k: v for k, v in values.items() if v is not None})


class Thresholds:
    """Limits per (kind, string, position), cached; runtime changes via :meth:`set`."""

    def __init__(self, settings: AlarmSettings, profiles: list[StringProfile]) -> None:
        self.settings = settings
        self.profiles = profiles
        self.runtime: dict[str, float] = {}  # "strings[0].unit_voltage_high.alarm" -> value
        self._cache: dict[tuple[str, int | None, int | None], Limits] = {}
        self._string_settings = {}
        for key, s in settings.strings.items():
            index = next((i for i, p in enumerate(profiles) if p.name == key), None)
            if index is None and key.isdigit():
                index = int(key)
            if index is None or index >= len(profiles):
                raise ValueError(f"alarms.strings: {key!r} is neither a string name nor an index")
            self._string_settings[index] = s

    def get(self, code: str, string: int | None = None, position: int | None = None) -> Limits:
        key = (code, string, position)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(code, string, position)
        return hit

    def _runtime(self, prefix: str, code: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in SETTABLE_FIELDS:
            v = self.runtime.get(f"{prefix}{code}.{f}")
            if v is not None:
                out[f] = bool(v) if f in ("enabled", "latching") else v
        return out

    def _resolve(self, code: str, string: int | None, position: int | None) -> Limits:
        p = self.profiles[string] if string is not None and string < len(self.profiles) else None
        limits = _apply(default_limits(code, p), self.settings.thresholds.get(code))
        limits = _apply(limits, self._runtime("", code))
        if string is not None:
            ss = self._string_settings.get(string)
            limits = _apply(limits, ss.thresholds.get(code) if ss else None)
            limits = _apply(limits, self._runtime(f"strings[{string}].", code))
            if position is not None:
                limits = _apply(limits, ss.units.get(position, {}).get(code) if ss else None)
                limits = _apply(limits, self._runtime(f"strings[{string}].units[{position - 1}].", code))
        return limits

    def set(self, key: str, value: float) -> str:
        """Change one limit at run time; returns the normalized key. Raises ValueError."""
        m = _KEY.match(key.strip())
        if not m:
            raise ValueError(f"bad threshold key {key!r}; expected [strings[i].[units[j].]]KIND.FIELD")
        string, unit, code, field = m.groups()
        if code not in KINDS:
            raise ValueError(f"unknown alarm kind {code!r}")
        if field not in SETTABLE_FIELDS:
            raise ValueError(f"unknown field {field!r}; one of {', '.join(SETTABLE_FIELDS)}")
        if string is not None and int(string) >= len(self.profiles):
            raise ValueError(f"no string {string}")
        if unit is not None and int(unit) >= self.profiles[int(string)].count:
            raise ValueError(f"string {string} has no unit index {unit}")
        if field in ("hysteresis", "delay_s", "clear_delay_s") and value < 0:
            raise ValueError(f"{field} must be >= 0")
        self.runtime[key.strip()] = float(value)
        self._cache.clear()
        return key.strip()
