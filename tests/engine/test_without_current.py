"""A string with no current reading: none fitted (the sensor is optional) or one that failed.

What a user must still get: float told from rest, discharges seen (with their minimum voltages
and weakest unit), equalization on float, and an SOC that says "unknown" rather than a number
nobody measured.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gateway.core.engine import Mode, StringEngine
from tests.engine.test_string_engine import SPEC, N, meas

NAN = math.nan


def run(
    eng: StringEngine, t: float, seconds: float, current: float, v: float | np.ndarray
) -> tuple[float, list]:
    """Steps of 10 s; returns the time after them and every estimate."""
    out = []
    for _ in range(int(seconds // 10)):
        out.append(eng.step(meas(t, current, v=v)))
        t += 10.0
    return t, out


def test_no_sensor_float_then_an_outage_then_float_again() -> None:
    eng = StringEngine(SPEC)
    t, ests = run(eng, 0.0, 600, NAN, 13.62)  # a charger holds 2.27 V/cell
    assert ests[-1].mode is Mode.FLOAT
    assert ests[-1].soc == pytest.approx(np.ones(N))  # commissioned charged, as with a sensor
    # mains fails: the load pulls the string down and its voltage sinks as it empties; unit 4 is weak
    reports = []
    for k in range(90):
        v = np.full(N, 12.40 - 0.004 * k)
        v[3] -= 0.002 * k
        est = eng.step(meas(t, NAN, v=v))
        assert est.mode is Mode.DISCHARGE
        assert np.isnan(est.soc).all(), "SOC of an unmeasured discharge is unknown, not 100 %"
        assert math.isnan(est.string_soc)
        t += 10.0
    # mains returns: the charger lifts the string back to float
    t, ests = run(eng, t, 600, NAN, 13.62)
    reports = [r for e in ests for r in e.discharge_reports]
    assert len(reports) == 1
    rep = reports[0]
    assert rep.t_end_s - rep.t_start_s == pytest.approx(900, abs=40)
    assert math.isnan(rep.ah)
    assert rep.as_dict()["ah"] is None
    assert rep.weakest_unit == 3
    assert ests[-1].mode is Mode.FLOAT
    assert np.isnan(ests[-1].soc).all()
    # a day on float says full again, since charge acceptance cannot be seen without a current
    t, ests = run(eng, t, 86400 + 600, NAN, 13.62)
    assert ests[-1].soc == pytest.approx(np.ones(N))


def test_no_sensor_a_charger_switched_off_is_a_rest_not_a_discharge() -> None:
    eng = StringEngine(SPEC)
    t, _ = run(eng, 0.0, 600, NAN, 13.62)
    # no load: the voltage relaxes slowly from float toward the OCV of a full block (~12.9 V)
    ests = []
    for k in range(360):
        ests.append(eng.step(meas(t, NAN, v=12.9 + 0.72 * math.exp(-k / 30.0))))
        t += 10.0
    assert {e.mode for e in ests[60:]} == {Mode.REST}
    assert not [r for e in ests for r in e.discharge_reports]


def test_equalization_runs_on_float_without_a_current_sensor() -> None:
    eng = StringEngine(SPEC)
    v = np.full(N, 13.60)
    v[2] = 13.80  # one high unit
    _, ests = run(eng, 0.0, 3600, NAN, v)
    assert ests[-1].mode is Mode.FLOAT
    assert ests[-1].duty[2] > 0
    assert ests[-1].duty[[0, 1, 3, 4, 5]].max() == 0


def test_a_current_sensor_lost_mid_discharge_stops_the_count_instead_of_emptying_the_string() -> None:
    eng = StringEngine(SPEC)
    t, _ = run(eng, 0.0, 600, 0.1, 13.62)
    t, ests = run(eng, t, 600, -20.0, 12.2)  # 10 min at 20 A: 3.3 Ah of 100
    assert ests[-1].soc == pytest.approx(np.full(N, 0.967), abs=0.005)
    # the sensor stops answering; the last reading stands for a while, then the current is unknown
    t, ests = run(eng, t, 4 * 3600, NAN, 12.2)
    soc = ests[-1].soc
    assert np.isnan(soc).all() or soc.min() > 0.8, f"SOC counted on a stale current: {soc}"
    assert np.isnan(soc).all()  # the load went on unmeasured: unknown
