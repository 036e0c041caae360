"""Settings of the estimation and control engine (the ``engine:`` section of the YAML).

Every threshold a site may want to change lives here, with a default that suits a
stationary string on float. ``None`` means "the chemistry's generic value".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SocConfig(_Section):
    """State of charge and capacity learning."""

    charge_efficiency: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Share of charging Ah stored; null = chemistry default (lead-acid 0.95, Li 0.995).",
    )
    peukert_exponent: float | None = Field(
        None,
        ge=1,
        le=1.6,
        description="Peukert exponent for the rate-dependent available capacity; null = the chemistry's "
        "generic value, then learnt from every discharge that runs a unit of known capacity to its end "
        "voltage; a number = fixed (e.g. from the datasheet), never learnt.",
    )
    full_charge_hold_s: float = Field(
        1800.0,
        gt=0,
        description="Seconds the charge-acceptance criterion must hold before SOC is reset to 100 %.",
    )
    full_without_current_s: float = Field(
        86400.0,
        gt=0,
        description="With no current reading (no sensor, or lost), a charger holding the string at "
        "float this long counts as a full charge: acceptance cannot be seen without a current.",
    )
    full_charge_current_c: float | None = Field(
        None,
        gt=0,
        description="Charge accepted below this many C10 amperes (with the voltage high).",
    )
    ocv_rest_s: float | None = Field(
        None,
        gt=0,
        description="Rest before the voltage counts as an OCV for SOC correction; null = chemistry default.",
    )
    ocv_uncertainty: float = Field(
        0.10,
        gt=0,
        description="Standard deviation of an OCV-based SOC (generic curve, calibration), 0–1: a "
        "lead-acid OCV read after a few hours of rest is good to about 10 % (electrolyte density "
        "differs between designs; a deep discharge relaxes for longer than the rest).",
    )
    learn_capacity: bool = Field(True, description="Learn each unit's capacity from discharges.")
    capacity_fit_start_s: float = Field(
        30.0,
        ge=0,
        description="Seconds into a discharge before voltage slopes are used (skip the initial transient).",
    )
    capacity_fit_min_depth: float = Field(
        0.06,
        gt=0,
        lt=1,
        description="Depth (Ah over capacity) a discharge must reach before capacities are learnt from it.",
    )
    capacity_fit_max_depth: float = Field(
        0.35,
        gt=0,
        le=1,
        description="Voltage slopes are used up to this depth of each unit (the knee biases them beyond).",
    )


class HealthConfig(_Section):
    """SOH, internal resistance, weak units, partial state of charge."""

    low_capacity_warning: float = Field(
        0.80, gt=0, le=1, description="SOH (capacity over rated) below which low_capacity is a warning."
    )
    low_capacity_alarm: float = Field(
        0.60, gt=0, le=1, description="SOH below which low_capacity is an alarm."
    )
    ri_baseline_samples: int = Field(
        4,
        ge=1,
        description="Ri readings (median) forming a unit's baseline after commissioning, unless set by hand.",
    )
    ri_trend_samples: int = Field(
        6, ge=1, description="Latest Ri readings whose median is compared with the baseline."
    )
    ri_rise_warning: float = Field(
        0.20,
        gt=0,
        description="Rise over baseline (fraction) that raises ri_rise as a warning (IEEE 1188 practice).",
    )
    ri_rise_alarm: float = Field(
        0.50, gt=0, description="Rise over baseline (fraction) that raises ri_rise as an alarm."
    )
    ri_outlier: float = Field(
        0.35,
        gt=0,
        description="A unit whose Ri exceeds the string median by this fraction raises ri_outlier (warning).",
    )
    ri_limit_ohm: float | None = Field(
        None, gt=0, description="Absolute Ri limit raising ri_high (alarm); null = off."
    )
    weak_unit_drop_v_per_cell: float | None = Field(
        None,
        gt=0,
        description="Under load, a unit this far below the string median (V/cell) is weak; null = default.",
    )
    weak_unit_min_z: float = Field(
        4.0, gt=0, description="...and this many robust standard deviations of the string's spread below it."
    )
    weak_unit_hold_s: float = Field(
        15.0, ge=0, description="How long a unit must stay that far below before weak_unit is raised."
    )
    psoc_min_depth: float = Field(
        0.02,
        gt=0,
        lt=1,
        description="A unit enters partial state of charge when this share of its capacity is missing.",
    )
    psoc_max_s: float = Field(
        72 * 3600.0,
        gt=0,
        description="Warn (psoc_too_long) when a unit stays in partial state of charge longer than this.",
    )


class EqualizationConfig(_Section):
    """Float-voltage equalization through each monitor's bypass current."""

    enabled: bool = Field(True, description="Command bypass duties at all (false: always 0).")
    strategy: Literal["spread", "median", "mean", "full"] = Field(
        "spread",
        description="Target: spread (default) = pull down only the units more than max_spread_v_per_cell "
        "above the lowest, and at least those above the median (costs only what the spread needs); "
        "median = only the units above the median (cheapest, leaves low units low); mean = string "
        "voltage / N; full = toward the lowest unit (most heat and float current).",
    )
    max_spread_v_per_cell: float = Field(
        0.010,
        gt=0,
        description="spread strategy: the measured spread to hold (V/cell); 0.010 = 60 mV per 12 V "
        "block, leaving ~40 mV of a 100 mV target for the monitors' calibration errors.",
    )
    outlier_v_per_cell: float = Field(
        0.1,
        gt=0,
        description="spread/full strategies: a unit this far below the median (a shorted cell, a "
        "failing unit) is not the lowest to equalize toward; bypassing cannot lift it.",
    )
    warm_margin_c: float = Field(
        5.0,
        gt=0,
        description="spread/full strategies: a unit this much warmer than the string's median "
        "temperature floats lower because it is warm; it is not the lowest to equalize toward "
        "(that would raise the string current through the warm unit).",
    )
    charger_v_per_cell: float | None = Field(
        None,
        gt=0,
        description="Target this charger set point (V/cell) instead of the measured string voltage / N.",
    )
    deadband_v_per_cell: float = Field(
        0.001, ge=0, description="No action while a unit is within this of the target (V/cell)."
    )
    hysteresis_v_per_cell: float = Field(
        0.0005, ge=0, description="A bypass holds until the unit is this far below the deadband."
    )
    response_time_s: float = Field(
        7200.0,
        gt=0,
        description="Closed-loop time constant; float polarisation settles in ~1 h, so keep it above that.",
    )
    filter_s: float = Field(
        300.0, ge=0, description="Time constant of the voltage filter that removes measurement noise."
    )
    floor_v_per_cell: float | None = Field(
        None, gt=0, description="Never pull a unit below this (V/cell); null = chemistry default (VRLA 2.23)."
    )
    max_temperature_c: float = Field(
        45.0, description="No bypass on a unit hotter than this (its resistor adds heat)."
    )
    error_hold_s: float = Field(
        12 * 3600.0, gt=0, description="A unit out of band at full duty this long raises equalization_error."
    )
    paused_until_t_s: float | None = Field(
        None,
        description="Scheduled pause (new AGM blocks, first months): no bypass before this (epoch s).",
    )
    min_interval_s: float = Field(
        0.0, ge=0, description="Minimum simulated seconds between duty updates (0 = every cycle)."
    )


class ThermalConfig(_Section):
    """Thermal runaway detection."""

    margin_c: float = Field(
        8.0, gt=0, description="A unit this much warmer than the string median (or ambient) is suspicious."
    )
    current_rise: float = Field(
        0.5,
        gt=0,
        description="...with the string's float current this fraction above its baseline (a runaway "
        "of the whole string, or of several units)...",
    )
    sag_v_per_cell: float | None = Field(
        0.1,
        gt=0,
        description="...or with the hot unit's own float voltage this far (V/cell) below the string "
        "median: on a series string a single unit's runaway shows as its voltage falling (it heats "
        "from an internal current), not as a higher string current; null = string current only.",
    )
    hold_s: float = Field(
        1800.0, ge=0, description="Hot and rising/sagging for this long raise thermal_runaway (alarm)."
    )
    action: str | None = Field(
        None,
        pattern=r"^aux_relay_[01]$",
        description="Action on thermal runaway: 'aux_relay_1' energizes AUX relay 1 while a runaway is "
        "active (wire it to the charger contactor's trip input); null = alarm only.",
    )


class DischargeConfig(_Section):
    """How the engine tells float, charge, rest and discharge apart."""

    current_c: float = Field(
        0.01, gt=0, description="Discharge (or charge) when |I| exceeds this many C10 amperes."
    )
    min_current_a: float = Field(
        0.2, gt=0, description="...and at least this many amperes (current sensor offsets)."
    )
    rest_current_a: float = Field(
        0.06,
        ge=0,
        description="|I| below this (or below rest_current_c, whichever is larger) is zero within the "
        "current sensor's offset: float or rest, told apart by the voltage.",
    )
    rest_current_c: float = Field(
        0.0005,
        ge=0,
        description="The same in C10 amperes (a 100 Ah string floats at ~1 mA/Ah = 0.001 C).",
    )
    end_hold_s: float = Field(
        20.0, ge=0, description="A discharge ends after the current stayed above -threshold this long."
    )
    current_hold_s: float = Field(
        300.0,
        gt=0,
        description="A string current reading stands this long (a lost reply or two keep it). "
        "Without a newer one (the sensor lost, or none fitted) the current is unknown: nothing is "
        "coulomb-counted, and the mode comes from the voltages alone (float when a charger holds "
        "the string, discharge from a fall of the median voltage until it recovers).",
    )


class EngineConfig(BaseModel):
    """The ``engine:`` section: estimation and control settings shared by every string."""

    model_config = ConfigDict(extra="forbid")

    soc: SocConfig = Field(default_factory=SocConfig, description="State of charge and capacity learning.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="SOH, Ri, weak units, PSOC.")
    equalization: EqualizationConfig = Field(
        default_factory=EqualizationConfig, description="Float-voltage equalization."
    )
    thermal: ThermalConfig = Field(default_factory=ThermalConfig, description="Thermal runaway detection.")
    discharge: DischargeConfig = Field(
        default_factory=DischargeConfig, description="Mode and discharge detection."
    )
