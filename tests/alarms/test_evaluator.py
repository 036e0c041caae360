"""The alarm manager on synthetic strings: limits, delay, hysteresis, levels, temperature compensation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from gateway.core.alarms import AlarmSettings
from gateway.core.model import StringMode
from tests.alarms.synthetic import Rig, string


def test_a_healthy_string_raises_nothing_for_an_hour() -> None:
    rig = Rig()
    rig.step(3600, string(), every=10)
    assert rig.events == []
    assert rig.manager.views() == ()
    assert rig.manager.relay_energized()
    assert rig.manager.unit_status(0, 5) == "ok"


def test_voltage_high_waits_for_its_delay_escalates_and_clears_with_hysteresis() -> None:
    rig = Rig()
    # VRLA 12 V block: warning 2.38 × 6 = 14.28 V, alarm 2.45 × 6 = 14.70 V, hysteresis 0.12 V, delay 60 s
    rig.step(59, string(overrides={5: {"voltage_v": 14.4}}))
    assert rig.events == []
    rig.step(2, string(overrides={5: {"voltage_v": 14.4}}))
    assert rig.raised() == [("unit_voltage_high", "strings[0].units[4]", "warning")]
    assert rig.manager.unit_status(0, 5) == "warning"
    assert not rig.manager.general_alarm()  # warnings do not open the dry contact by default

    rig.step(61, string(overrides={5: {"voltage_v": 14.8}}))
    assert rig.raised()[-1] == ("unit_voltage_high", "strings[0].units[4]", "alarm")
    assert rig.manager.general_alarm()
    assert not rig.manager.relay_energized()
    assert len(rig.manager.views()) == 1  # one alarm that escalated, not two

    rig.step(10, string(overrides={5: {"voltage_v": 14.2}}))  # below 14.28 but inside the hysteresis
    assert rig.events[-1].state == "changed"
    assert rig.events[-1].level == "warning"
    assert rig.active_codes() == {("unit_voltage_high", "strings[0].units[4]")}
    assert rig.manager.relay_energized()

    rig.step(1, string(overrides={5: {"voltage_v": 14.1}}))
    assert rig.events[-1].state == "cleared"
    assert rig.active_codes() == set()
    # cleared but not acknowledged: still listed, with its clearing time
    (view,) = rig.manager.views()
    assert view.cleared_at is not None
    assert view.acked_by is None


def test_a_spike_shorter_than_the_delay_raises_nothing() -> None:
    rig = Rig()
    for _ in range(5):
        rig.step(30, string(overrides={3: {"temperature_c": 50.0}}))
        rig.step(30, string())
    assert rig.events == []


def test_lead_acid_voltage_limits_follow_temperature() -> None:
    rig = Rig()
    # 14.2 V is fine at 25 °C; at 33 °C the warning limit is 14.28 − 0.003 × 6 × 8 = 14.14 V
    rig.step(120, string(overrides={7: {"voltage_v": 14.2}}))
    assert rig.events == []
    rig.step(120, string(overrides={7: {"voltage_v": 14.2, "temperature_c": 33.0}}))
    assert rig.raised() == [("unit_voltage_high", "strings[0].units[6]", "warning")]
    off = Rig(settings={"temperature_compensation": False})
    off.step(120, string(overrides={7: {"voltage_v": 14.2, "temperature_c": 33.0}}))
    assert off.raised() == []


def test_lfp_limits_are_not_temperature_compensated() -> None:
    from tests.alarms.synthetic import site_config

    rig = Rig(config=site_config(count=16, chemistry="lfp", model="C41", nominal_v=3.2))
    s = string(count=16, overrides={p: {"voltage_v": 3.40} for p in range(1, 17)})
    s = replace(s, voltage_v=16 * 3.40)
    rig.step(300, s)
    assert rig.events == []
    hot = string(count=16, overrides={p: {"voltage_v": 3.40, "temperature_c": 38.0} for p in range(1, 17)})
    rig.step(300, replace(hot, voltage_v=16 * 3.40))
    assert rig.events == []  # 3.40 V at 38 °C is inside LFP limits: no shift with temperature
    high = string(count=16, overrides={p: {"voltage_v": 3.62} for p in range(1, 17)})
    rig.step(120, replace(high, voltage_v=16 * 3.62))
    assert ("unit_voltage_high", "strings[0]", "warning") in rig.raised()


def test_float_low_is_judged_on_float_only_and_discharge_low_in_discharge() -> None:
    rig = Rig()
    low = {9: {"voltage_v": 12.7}}  # below 2.13 V/cell on float: a shorted cell
    rig.step(120, string(overrides=low))
    assert ("unit_voltage_low", "strings[0].units[8]", "alarm") in rig.raised()
    rig2 = Rig()
    rig2.step(120, string(mode=StringMode.DISCHARGE, current_a=-40.0, overrides=low))
    assert [c for c, *_ in rig2.raised()] == ["string_discharging"]
    assert not rig2.manager.general_alarm()


def test_ri_rise_over_baseline_and_deviation_from_the_string_average() -> None:
    rig = Rig()
    rig.step(1, string(overrides={12: {"ri_ohm": 0.0052}}))  # +30 % over a 4.0 mΩ baseline
    assert rig.raised() == [("unit_ri_rise", "strings[0].units[11]", "warning")]
    rig.step(400, string(overrides={12: {"ri_ohm": 0.0052}, 3: {"temperature_c": 31.0}}))
    assert ("unit_temperature_deviation", "strings[0].units[2]", "alarm") in rig.raised()


def test_overrides_per_site_string_and_unit() -> None:
    settings = {
        "thresholds": {"unit_temperature_high": {"warning": 30.0, "delay_s": 0}},
        "strings": {"String A": {"units": {4: {"unit_temperature_high": {"enabled": False}}}}},
    }
    rig = Rig(settings=settings)
    rig.step(1, string(overrides={4: {"temperature_c": 32.0}, 6: {"temperature_c": 32.0}}))
    assert [s for _, s, _ in rig.raised()] == ["strings[0].units[5]"]


def test_settings_refuse_unknown_kinds_and_unknown_strings() -> None:
    with pytest.raises(ValidationError, match="unit_voltage_hihg"):
        AlarmSettings.model_validate({"thresholds": {"unit_voltage_hihg": {"alarm": 14.0}}})
    with pytest.raises(ValidationError, match="extra"):
        AlarmSettings.model_validate({"thresholds": {"unit_voltage_high": {"alarms": 14.0}}})
    with pytest.raises(ValueError, match="String Z"):
        Rig(settings={"strings": {"String Z": {}}})


def test_site_ambient_and_string_current_alarms() -> None:
    rig = Rig()
    rig.step(120, string(current_a=30.0), ambient_c=36.0, humidity_pct=92.0)  # 0.3 C10 charge
    codes = {(c, lvl) for c, _, lvl in rig.raised()}
    assert codes == {
        ("ambient_temperature_high", "alarm"),
        ("ambient_humidity_high", "alarm"),
        ("string_charge_current_high", "warning"),
    }
