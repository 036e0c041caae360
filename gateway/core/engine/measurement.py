"""Plain data the engine takes and gives: the string it models, one cycle's measurement,
its estimate, findings (future alarms) and discharge reports. No logic beyond validation.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gateway.core.engine.chemistry import chemistry, monitor_model


class Mode(enum.StrEnum):
    """What the charger and load do to the string (same values as ``StringMode``)."""

    FLOAT = "float"
    CHARGE = "charge"
    DISCHARGE = "discharge"
    REST = "rest"


DUTY_LEVELS = ("OFF", "ECO+", "ECO", "normal", "power", "boost")
#: upper bounds of each duty level but the last (OFF is exactly 0)
DUTY_LEVEL_BOUNDS = (0.0, 0.10, 0.30, 0.60, 0.90)


def duty_levels(duty: np.ndarray) -> list[str]:
    """The level name of every duty: OFF, ECO+ (<10 %), ECO (<30 %), normal (<60 %), power (<90 %), boost."""
    idx = np.searchsorted(np.asarray(DUTY_LEVEL_BOUNDS), duty, side="left")
    idx = np.where(duty <= 0.0, 0, idx)
    return [DUTY_LEVELS[int(i)] for i in idx]


@dataclass(frozen=True, slots=True)
class StringSpec:
    """The string the engine models: n units in series of one chemistry and monitor model."""

    units: int
    chemistry: str
    nominal_voltage_v: float  # per unit
    rated_capacity_ah: float  # per unit, 10-hour rate, 25 °C
    model: str = "C20"
    #: optional per-unit rated capacities (a replaced block of another size), length ``units``
    capacity_override_ah: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.units < 1:
            raise ValueError("a string needs at least one unit")
        if self.rated_capacity_ah <= 0 or self.nominal_voltage_v <= 0:
            raise ValueError("rated_capacity_ah and nominal_voltage_v must be > 0")
        chemistry(self.chemistry)
        monitor_model(self.model)
        if self.capacity_override_ah is not None and len(self.capacity_override_ah) != self.units:
            raise ValueError("capacity_override_ah needs one value per unit")

    @property
    def cells_per_unit(self) -> int:
        """Cells in series inside one unit (a 12 V lead-acid block has 6)."""
        return max(1, round(self.nominal_voltage_v / chemistry(self.chemistry).cell_nominal_v))


@dataclass(slots=True)
class Measurement:
    """One bus cycle of one string. Arrays have one value per unit; NaN = missing this cycle."""

    t_s: float
    current_a: float  # string current, + = charging; NaN if not measured
    ambient_c: float
    voltage_v: np.ndarray
    temperature_c: np.ndarray
    ri_ohm: np.ndarray  # NaN = no NEW Ri measurement this cycle
    bypass_current_a: np.ndarray | None = None  # flowing, as the monitors report it
    ri_measuring: np.ndarray | None = None  # bool: an Ri pulse is running on that unit

    @classmethod
    def empty(cls, n: int, t_s: float) -> Measurement:
        """A cycle where nothing was measured (all NaN)."""
        nan = np.full(n, math.nan)
        return cls(t_s, math.nan, math.nan, nan.copy(), nan.copy(), nan.copy())


@dataclass(frozen=True, slots=True)
class Finding:
    """An active condition the alarm logic turns into an alarm: plain data."""

    code: str  # weak_unit, low_capacity, ri_rise, ri_high, thermal_runaway, ...
    level: str  # "warning" | "alarm"
    unit: int | None  # 0-based unit index, None = the whole string
    value: float
    message: str


@dataclass(frozen=True, slots=True)
class DischargeReport:
    """What one discharge did, emitted when it ends."""

    t_start_s: float
    t_end_s: float
    ah: float
    min_string_voltage_v: float
    min_voltage_v: tuple[float, ...]  # per unit
    weakest_unit: int  # 0-based
    depth: float  # Ah over the smallest capacity

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; unknown values (no current sensor, a unit never measured) are ``None``."""
        return {
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "ah": _rounded(self.ah, 4),
            "min_string_voltage_v": _rounded(self.min_string_voltage_v, 3),
            "min_voltage_v": [_rounded(v, 3) for v in self.min_voltage_v],
            "weakest_unit": self.weakest_unit + 1,
            "depth": _rounded(self.depth, 4),
        }


def _rounded(x: float, digits: int) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


@dataclass(slots=True)
class StringEstimate:
    """The engine's answer to one measurement."""

    t_s: float
    mode: Mode
    soc: np.ndarray
    string_soc: float
    runtime_s: float  # NaN unless discharging
    soh: np.ndarray  # NaN = unknown
    capacity_ah: np.ndarray
    psoc: np.ndarray  # bool
    psoc_time_s: np.ndarray
    psoc_ah: np.ndarray
    ri_baseline_ohm: np.ndarray
    duty: np.ndarray  # requested bypass duty 0–1
    duty_level: list[str]
    bypass_power_w: float
    float_current_increase_a: float
    findings: list[Finding] = field(default_factory=list)
    discharge_reports: list[DischargeReport] = field(default_factory=list)
