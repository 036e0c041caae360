"""Options of the simulated world and its lines: ``lines[].options`` of a ``sim://NAME`` line.

World options (seed, scenario, room, batteries) are taken from the first line of a world
that opens; line options (faults, timing) apply to each line's own bus.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.core.components import ComponentConfig


class SimOptions(ComponentConfig):
    """Everything has a default: ``url: sim://demo`` alone gives a living battery room on float."""

    seed: int = Field(
        1, description="Seed of every random choice (unit spread, noise, faults): same seed, same run."
    )
    scenario: str | None = Field(
        None,
        description="Scenario file (relative to the config file) or the name "
        "of a shipped one: mains-failure, ri-ramp, thermal-runaway, dead-monitor, "
        "line-unplugged.",
    )
    step_s: float = Field(1.0, gt=0, le=60, description="Physics time step, simulated seconds.")
    ambient_c: float = Field(23.0, ge=-30, le=60, description="Mean room temperature, °C.")
    ambient_swing_c: float = Field(
        1.5, ge=0, le=15, description="Amplitude of the daily temperature swing (warmest at 16:00 UTC)."
    )
    humidity_pct: float = Field(45.0, ge=0, le=100, description="Mean relative humidity, %.")
    initial_soc: float = Field(1.0, ge=0, le=1, description="State of charge of every unit at start.")
    unit_spread: float = Field(
        1.0,
        ge=0,
        le=5,
        description="Scale of the unit-to-unit spread of capacity, "
        "Ri and float current (0 = identical units).",
    )
    ups_power_w: float | None = Field(
        None,
        ge=0,
        description="Constant power each string's UPS draws on "
        "mains failure; none = about the string's 1-hour rate.",
    )
    temperature_compensation: bool = Field(
        True,
        description="Chargers lower the float voltage when the batteries are warm (−3 mV/K/cell for VRLA).",
    )
    charger_trip_relay: int | None = Field(
        None,
        ge=0,
        le=1,
        description="AUX relay (0 or 1) wired to the chargers' trip input: while that coil is ON every "
        "charger is disconnected (the load stays on the mains); null = not wired.",
    )
    current_sensor_range_a: Literal[100, 200, 500, 1000] | None = Field(
        None,
        description="Rated range of the CS current sensors, A; none = per string, the smallest "
        "that covers its UPS load at the end of discharge and its charger limit.",
    )
    factory_fresh: int = Field(
        0,
        ge=0,
        le=50,
        description="The last N block monitors start unaddressed (unit id 247), for the addressing wizard.",
    )
    dead_units: list[int] = Field(
        default_factory=list, description="Unit ids on this line that never answer (dead monitors)."
    )
    emulate_timing: bool = Field(
        False,
        description="Deliver replies after the wire time at the line's "
        "baud, the inter-frame silence and the device latency (real time).",
    )
    latency_ms: float = Field(
        3.0,
        ge=0,
        le=10,
        description="Device turnaround after the inter-frame silence (datasheet: typically 2–5 ms).",
    )
    crc_error_rate: float = Field(0.0, ge=0, le=1, description="Share of replies with a corrupted byte.")
    drop_rate: float = Field(0.0, ge=0, le=1, description="Share of replies lost.")
    garbage_rate: float = Field(0.0, ge=0, le=1, description="Share of replies with noise bytes around them.")
