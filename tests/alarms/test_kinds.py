"""Alarm kinds that no scenario provokes, each on its own cause, with nothing else raised.

The scenarios and the evaluator tests cover the common kinds; these are the rest of the
issue's list: unit temperature low, absolute Ri, string voltage high/low, discharge current,
AC ripple, monitor identity mismatch and sensor fault; and a current sensor too small for its
string.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.model import StringMode
from tests.alarms.synthetic import Rig, string

UNIT3 = "strings[0].units[2]"
CASES: list[tuple[str, dict[str, Any], dict[str, Any], set[tuple[str, str, str]]]] = [
    (
        "unit temperature low",
        # one cold block; its deviation from the string is a separate alarm, off here
        {"thresholds": {"unit_temperature_deviation": {"enabled": False}}},
        {"overrides": {3: {"temperature_c": -15.0}}},
        {("unit_temperature_low", UNIT3, "alarm")},
    ),
    (
        "absolute Ri (off by default, limits set by the site)",
        {"thresholds": {"unit_ri_high": {"warning": 0.006, "alarm": 0.008}}},
        {"overrides": {3: {"ri_ohm": 0.009, "ri_baseline_ohm": 0.009}}},
        {("unit_ri_high", UNIT3, "alarm")},
    ),
    (
        "string voltage high",
        {},
        {"voltage_v": 24 * 6 * 2.6},
        {("string_voltage_high", "strings[0]", "alarm")},
    ),
    (
        "string voltage low",
        {},
        {"voltage_v": 24 * 6 * 1.6},
        {("string_voltage_low", "strings[0]", "alarm")},
    ),
    (
        "discharge current",
        {},
        {"mode": StringMode.DISCHARGE, "current_a": -1000.0},
        {
            ("string_discharge_current_high", "strings[0]", "alarm"),
            ("string_discharging", "strings[0]", "warning"),
        },
    ),
    (
        "current beyond the sensor's range (clipped at its 100 A limit)",
        {},
        {"mode": StringMode.DISCHARGE, "current_a": -100.0, "current_over_range": True},
        {
            ("string_current_over_range", "strings[0]", "warning"),
            ("string_discharging", "strings[0]", "warning"),
        },
    ),
    (
        "AC ripple on float",
        {},
        {"ripple_a": 50.0},
        {("string_ripple_high", "strings[0]", "alarm")},
    ),
    (
        "monitor identity mismatch",
        {},
        {"overrides": {3: {"flags": frozenset({"identity_mismatch"})}}},
        {("unit_identity_mismatch", UNIT3, "warning")},
    ),
    (
        "temperature sensor fault",
        {},
        {"overrides": {3: {"flags": frozenset({"temperature_sensor_fault"}), "temperature_c": None}}},
        {("sensor_fault", UNIT3, "warning")},
    ),
]


@pytest.mark.parametrize(("settings", "view", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_remaining_kind_rises_alone_and_clears(
    settings: dict[str, Any], view: dict[str, Any], expected: set[tuple[str, str, str]]
) -> None:
    rig = Rig(settings=settings)
    rig.step(600, string(**view), every=5)
    assert set(rig.raised()) == expected
    rig.step(600, string(), every=5)  # the cause is gone
    assert rig.active_codes() == set()
