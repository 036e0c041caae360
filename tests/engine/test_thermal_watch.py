"""Thermal runaway with the default settings: which hot units are a runaway and which are not.

A single unit running away on a series string heats from a current inside it (soft short,
dry-out): its float voltage falls below the others' while the string current hardly moves.
A unit warmed from outside keeps its float voltage (a few mV/cell lower per kelvin).
"""

from __future__ import annotations

import math

import numpy as np

from gateway.core.engine import EngineConfig, Measurement, StringEngine, StringSpec
from gateway.core.engine.measurement import Finding

N = 6
SPEC = StringSpec(units=N, chemistry="vrla", nominal_voltage_v=12.0, rated_capacity_ah=100.0, model="C20")
FLOAT_V = 13.64  # 2.273 V/cell
STEP_S = 10.0


def meas(t: float, current: float, v: np.ndarray, temp: np.ndarray) -> Measurement:
    return Measurement(
        t_s=t,
        current_a=current,
        ambient_c=24.0,
        voltage_v=v.astype(float),
        temperature_c=temp.astype(float),
        ri_ohm=np.full(N, math.nan),
    )


def run(
    eng: StringEngine, seconds: float, v: np.ndarray, temp: np.ndarray, t0: float = 0.0, current: float = 0.1
) -> tuple[float, list[tuple[float, Finding]]]:
    """Feed constant readings for ``seconds``; returns the end time and every finding with its time."""
    t, seen = t0, []
    while t < t0 + seconds:
        seen += [(t, f) for f in eng.step(meas(t, current, v, temp)).findings]
        t += STEP_S
    return t, seen


def normal_float_hour(eng: StringEngine) -> float:
    t, seen = run(eng, 3600, np.full(N, FLOAT_V), np.full(N, 25.0))
    assert not seen
    return t


def test_hot_unit_with_its_voltage_sagging_is_a_runaway_after_the_default_hold() -> None:
    eng = StringEngine(SPEC)  # defaults: 8 °C, 0.1 V/cell, 30 min
    t = normal_float_hour(eng)
    v = np.full(N, FLOAT_V)
    v[2] = 12.80  # at its OCV: discharging through a soft short (0.14 V/cell below the others)
    temp = np.full(N, 25.0)
    temp[2] = 36.0
    _, seen = run(eng, 3600, v, temp, t0=t)  # string current flat at 0.1 A
    runaway = [(ts, f) for ts, f in seen if f.code == "thermal_runaway"]
    assert runaway, "a hot unit that sags 140 mV/cell on float was not called a runaway"
    assert {f.unit for _, f in runaway} == {2}
    assert 1800 <= runaway[0][0] - t <= 1800 + 2 * STEP_S  # after the default hold, not before
    assert "140 mV/cell below" in runaway[0][1].message
    assert any(f.code == "unit_hot" and ts < runaway[0][0] for ts, f in seen)  # warning first


def test_hot_unit_at_a_normal_float_voltage_stays_a_warning() -> None:
    # warmed from outside (sun, a heater) by 12 °C: at the string's current its float voltage
    # falls ~3.6 mV/cell/K (43 mV/cell), on a unit that already floated 30 mV/cell low
    eng = StringEngine(SPEC)
    t = normal_float_hour(eng)
    v = np.full(N, FLOAT_V)
    v[4] = FLOAT_V - 6 * (0.043 + 0.030)
    temp = np.full(N, 25.0)
    temp[4] = 37.0
    _, seen = run(eng, 3 * 3600, v, temp, t0=t)
    codes = {(f.code, f.unit) for _, f in seen}
    assert ("unit_hot", 4) in codes
    assert not any(code == "thermal_runaway" for code, _ in codes)


def test_low_unit_that_is_not_hot_is_no_thermal_finding() -> None:
    eng = StringEngine(SPEC)
    t = normal_float_hour(eng)
    v = np.full(N, FLOAT_V)
    v[1] = 12.80
    _, seen = run(eng, 3 * 3600, v, np.full(N, 25.0), t0=t)
    assert not {f.code for _, f in seen} & {"thermal_runaway", "unit_hot"}


def test_sag_criterion_can_be_turned_off() -> None:
    eng = StringEngine(SPEC, EngineConfig.model_validate({"thermal": {"sag_v_per_cell": None}}))
    t = normal_float_hour(eng)
    v = np.full(N, FLOAT_V)
    v[2] = 12.80
    temp = np.full(N, 25.0)
    temp[2] = 36.0
    _, seen = run(eng, 3600, v, temp, t0=t)
    codes = {f.code for _, f in seen}
    assert "unit_hot" in codes
    assert "thermal_runaway" not in codes  # only the string current counts now, and it is flat


def test_whole_string_runaway_is_still_found_by_the_float_current() -> None:
    eng = StringEngine(SPEC)
    t = normal_float_hour(eng)
    temp = np.full(N, 30.0)
    temp[3] = 40.0
    _, seen = run(eng, 3600, np.full(N, FLOAT_V), temp, t0=t, current=0.3)  # 3x the float current
    runaway = [f for _, f in seen if f.code == "thermal_runaway"]
    assert runaway
    assert runaway[0].unit == 3
    assert "float current rising" in runaway[0].message
