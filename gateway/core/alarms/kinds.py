"""The catalogue of alarm kinds and their default thresholds per chemistry and monitor model.

Defaults are per cell (voltages) or per C10 (currents) and scaled to each string's units;
voltage limits of lead-acid and NiCd are given at 25 °C and temperature-compensated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["high", "low", "flag"]
Scope = Literal["unit", "string", "site", "line"]

LEVELS = ("warning", "alarm")


def level_rank(level: str | None) -> int:
    """0 for no level, 1 warning, 2 alarm: comparisons read as 'at least'."""
    return {"warning": 1, "alarm": 2}.get(level or "", 0)


@dataclass(frozen=True, slots=True)
class AlarmKind:
    """One kind of alarm: what it watches, in which direction, with which default timing."""

    code: str
    scope: Scope
    direction: Direction
    unit: str  # unit of the value and thresholds ("V", "°C", "Ω", "A", "%", "" for flags)
    title: str
    delay_s: float = 0.0
    clear_delay_s: float = 0.0
    latching: bool = False


_K = AlarmKind
KINDS: dict[str, AlarmKind] = {
    k.code: k
    for k in (
        _K("unit_voltage_high", "unit", "high", "V", "Unit voltage high", 60.0),
        # float only: a unit low on float has a shorted cell or a bad connection
        _K("unit_voltage_low", "unit", "low", "V", "Unit voltage low on float", 60.0),
        _K("unit_discharge_voltage_low", "unit", "low", "V", "Unit voltage low in discharge", 5.0),
        _K("unit_temperature_high", "unit", "high", "°C", "Unit temperature high", 60.0),
        _K("unit_temperature_low", "unit", "low", "°C", "Unit temperature low", 60.0),
        _K("unit_ri_high", "unit", "high", "Ω", "Unit internal resistance high"),
        _K("unit_ri_rise", "unit", "high", "", "Unit Ri rise over its baseline (fraction)"),
        _K("unit_voltage_deviation", "unit", "high", "V", "Unit voltage off the string average", 300.0),
        _K(
            "unit_temperature_deviation",
            "unit",
            "high",
            "°C",
            "Unit temperature off the string average",
            300.0,
        ),
        _K("unit_comm_lost", "unit", "flag", "", "Monitor not answering", 10.0),
        _K("unit_identity_mismatch", "unit", "flag", "", "Monitor identity mismatch (replaced?)"),
        _K("unit_fuse_open", "unit", "flag", "", "Measurement-lead fuse open", 10.0),
        _K("sensor_fault", "unit", "flag", "", "Sensor fault", 30.0),
        _K("string_voltage_high", "string", "high", "V", "String voltage high", 10.0),
        _K("string_voltage_low", "string", "low", "V", "String voltage low", 10.0),
        _K("string_charge_current_high", "string", "high", "A", "String charge current high", 10.0),
        _K("string_discharge_current_high", "string", "high", "A", "String discharge current high", 10.0),
        _K("string_ripple_high", "string", "high", "A", "String AC ripple current high", 60.0),
        # a clipped current counts too little charge: the sensor is too small for this string
        _K(
            "string_current_over_range",
            "string",
            "flag",
            "",
            "String current beyond the current sensor's range",
            10.0,
        ),
        _K("string_discharging", "string", "flag", "", "String discharging (mains failure?)", 5.0),
        _K("ambient_temperature_high", "site", "high", "°C", "Ambient temperature high", 60.0),
        _K("ambient_temperature_low", "site", "low", "°C", "Ambient temperature low", 60.0),
        _K("ambient_humidity_high", "site", "high", "%", "Ambient humidity high", 60.0),
        _K("line_comm_lost", "line", "flag", "", "RS-485 line lost", 5.0),
        # folded in from the engine's findings (level chosen by the engine); a finding must stay
        # away for a minute before its alarm clears, so an estimate hovering at its limit does not flap
        _K("thermal_runaway", "unit", "flag", "", "Thermal runaway", 0.0, 60.0, True),
        _K("equalization_error", "unit", "flag", "", "Equalization error", 0.0, 60.0),
        _K("psoc_too_long", "unit", "flag", "", "Partial state of charge too long", 0.0, 60.0),
        _K("weak_unit", "unit", "flag", "", "Weak unit", 0.0, 60.0),
        _K("low_capacity", "unit", "flag", "", "Low capacity", 0.0, 60.0),
        _K("ri_outlier", "unit", "flag", "", "Ri far from the string's other units", 0.0, 60.0),
        _K("unit_hot", "unit", "flag", "", "Unit warmer than its neighbours", 0.0, 60.0),
        _K("alarm_flood", "site", "flag", "", "Too many alarms: further ones are counted, not raised"),
    )
}

#: engine finding codes → alarm codes (a finding code not listed keeps its own name)
FINDING_CODES = {"ri_rise": "unit_ri_rise", "ri_high": "unit_ri_high"}


@dataclass(frozen=True, slots=True)
class Chemistry:
    """Per-cell defaults of one chemistry. Pairs are (warning, alarm)."""

    cell_nominal_v: float
    cell_high_v: tuple[float, float]
    cell_float_low_v: tuple[float, float]
    cell_discharge_low_v: tuple[float, float]
    cell_string_high_v: tuple[float, float]
    cell_string_low_v: tuple[float, float]
    cell_deviation_v: tuple[float, float]
    temp_comp_v_per_c: float  # per cell; 0 = no compensation
    unit_temp_high_c: tuple[float, float]
    unit_temp_low_c: tuple[float, float]
    ambient_high_c: tuple[float, float]
    ambient_low_c: tuple[float, float]
    charge_c10: tuple[float, float]  # charge current limits, multiples of C10
    discharge_c10: tuple[float, float]
    ripple_c10: tuple[float, float]
    cell_deep_discharge_v: float  # Annex VII deep-discharge event threshold
    cell_overcharge_v: float  # Annex VII overcharge event threshold
    extreme_temp_c: tuple[float, float]  # (low, high): "time at extreme temperatures"


CHEMISTRIES: dict[str, Chemistry] = {
    # VRLA float 2.27 V/cell at 25 °C, −3 mV/°C/cell (EN 60896-21 practice, IEEE 1188)
    "vrla": Chemistry(
        2.0,
        (2.38, 2.45),
        (2.18, 2.13),
        (1.75, 1.65),
        (2.38, 2.45),
        (1.85, 1.75),
        (0.05, 0.08),
        -0.003,
        (35.0, 45.0),
        (5.0, 0.0),
        (30.0, 35.0),
        (10.0, 5.0),
        (0.25, 0.35),
        (4.0, 6.0),
        (0.05, 0.10),
        1.60,
        2.45,
        (0.0, 40.0),
    ),
    # vented lead-acid: float 2.23 V/cell, equalize charges up to 2.40 V/cell are normal
    "vla": Chemistry(
        2.0,
        (2.42, 2.50),
        (2.15, 2.10),
        (1.75, 1.65),
        (2.42, 2.50),
        (1.85, 1.75),
        (0.05, 0.08),
        -0.0022,
        (40.0, 50.0),
        (5.0, 0.0),
        (30.0, 35.0),
        (10.0, 5.0),
        (0.25, 0.35),
        (4.0, 6.0),
        (0.05, 0.10),
        1.60,
        2.50,
        (0.0, 45.0),
    ),
    "lfp": Chemistry(
        3.2,
        (3.60, 3.65),
        (3.20, 3.00),
        (2.80, 2.50),
        (3.55, 3.60),
        (2.90, 2.80),
        (0.05, 0.10),
        0.0,
        (45.0, 55.0),
        (5.0, 0.0),
        (35.0, 40.0),
        (5.0, 0.0),
        (0.5, 1.0),
        (2.0, 3.0),
        (0.05, 0.10),
        2.50,
        3.65,
        (0.0, 45.0),
    ),
    "lto": Chemistry(
        2.3,
        (2.75, 2.85),
        (2.30, 2.20),
        (1.90, 1.70),
        (2.70, 2.80),
        (2.00, 1.80),
        (0.05, 0.10),
        0.0,
        (50.0, 60.0),
        (-20.0, -30.0),
        (40.0, 45.0),
        (-10.0, -20.0),
        (2.0, 4.0),
        (4.0, 6.0),
        (0.10, 0.20),
        1.50,
        2.85,
        (-20.0, 50.0),
    ),
    "nicd": Chemistry(
        1.2,
        (1.60, 1.65),
        (1.33, 1.28),
        (1.05, 1.00),
        (1.55, 1.65),
        (1.10, 1.00),
        (0.05, 0.08),
        -0.002,
        (40.0, 50.0),
        (-10.0, -20.0),
        (35.0, 40.0),
        (-5.0, -15.0),
        (0.3, 0.5),
        (5.0, 8.0),
        (0.10, 0.20),
        0.90,
        1.65,
        (-20.0, 45.0),
    ),
}

#: nominal unit voltage per monitor model, used when a string's config does not say
MODEL_NOMINAL_V = {
    "C20": 12.0,
    "C20ex3": 12.0,
    "C23": 16.0,
    "C30": 6.0,
    "C30ex3": 6.0,
    "C40": 2.0,
    "C40ex3": 2.0,
    "C41": 3.2,
}

# compensation is clamped like chargers do: outside this range it would over-correct
TEMP_COMP_RANGE_C = (5.0, 40.0)
TEMP_COMP_REFERENCE_C = 25.0


def cells_per_unit(chemistry: Chemistry, nominal_voltage_v: float) -> int:
    """6 for a 12 V lead-acid block, 1 for a 3.2 V LFP cell."""
    return max(1, round(nominal_voltage_v / chemistry.cell_nominal_v))
