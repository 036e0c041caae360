"""Alarm states: latching, acknowledgement, floods, the fail-safe relay, restart persistence."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.commands import Actor
from gateway.core.model import Quality, StringMode
from tests.alarms.synthetic import Rig, line, site_config, string

OPERATOR = Actor("olga", "operator", "10.0.0.5", "web")
VIEWER = Actor("vic", "viewer", "10.0.0.6", "web")
ADMIN = Actor("ada", "admin", "10.0.0.7", "cli")


@dataclass
class Finding:
    """The shape of the engine's findings."""

    code: str
    level: str
    unit: int | None
    value: float | None = None
    message: str = ""
    string: int | None = 0


def test_thermal_runaway_latches_until_acknowledged() -> None:
    rig = Rig()
    runaway = [Finding("thermal_runaway", "alarm", 6, 41.0, "T rising 3 °C/h on float")]
    rig.step(5, string(), findings=runaway)
    assert rig.raised() == [("thermal_runaway", "strings[0].units[6]", "alarm")]
    assert not rig.manager.relay_energized()
    assert rig.manager.unit_status(0, 7) == "alarm"

    rig.step(600, string(), findings=[])  # the cause went away: a latching alarm stays
    assert rig.active_codes() == {("thermal_runaway", "strings[0].units[6]")}
    assert not rig.manager.relay_energized()

    (view,) = rig.manager.views()
    refused = rig.manager.ack(view.id, VIEWER)
    assert not refused.ok
    assert "operator" in refused.message
    assert rig.manager.ack(view.id, OPERATOR).ok
    assert [e.state for e in rig.events] == ["raised", "acknowledged", "cleared"]
    ack = rig.events[1]
    assert ack.actor == OPERATOR
    assert "olga" in ack.message
    assert rig.manager.views() == ()
    assert rig.manager.relay_energized()
    assert not rig.manager.ack(view.id, OPERATOR).ok  # gone


def test_acknowledged_active_alarm_clears_by_itself() -> None:
    rig = Rig()
    rig.step(1, string(overrides={2: {"ri_ohm": 0.0070}}))  # +75 %: alarm
    (view,) = rig.manager.views()
    assert view.level == "alarm"
    rig.manager.ack(view.id, OPERATOR)
    (view,) = rig.manager.views()
    assert view.acked_by == "olga"
    assert view.cleared_at is None
    rig.step(1, string())
    assert rig.manager.views() == ()
    assert [e.state for e in rig.events] == ["raised", "acknowledged", "cleared"]


def test_a_dead_line_is_one_line_alarm_not_one_per_unit() -> None:
    rig = Rig()
    dead = {p: {"quality": Quality.COMM_LOST, "status": "comm_lost"} for p in range(1, 25)}
    rig.step(60, string(overrides=dead), lines=(line(state="down", lost=24),))
    assert rig.raised() == [("line_comm_lost", "lines[bus1]", "alarm")]
    assert not rig.manager.relay_energized()
    rig.step(60, string(), lines=(line(),))
    assert rig.transitions()[-1] == ("cleared", "line_comm_lost", "lines[bus1]")
    assert rig.manager.relay_energized()


def test_a_line_still_up_but_with_most_units_silent_is_one_line_alarm() -> None:
    rig = Rig()
    dead = {p: {"quality": Quality.COMM_LOST} for p in range(13, 25)}  # a cable cut after unit 12
    rig.step(60, string(overrides=dead), lines=(line(lost=12),))
    assert rig.raised() == [("line_comm_lost", "lines[bus1]", "alarm")]


def test_one_dead_monitor_is_one_unit_alarm() -> None:
    rig = Rig()
    rig.step(
        30,
        string(overrides={17: {"quality": Quality.COMM_LOST, "status": "comm_lost"}}),
        lines=(line(lost=1),),
    )
    assert rig.raised() == [("unit_comm_lost", "strings[0].units[16]", "alarm")]
    assert rig.manager.unit_status(0, 17) == "alarm"


def test_many_units_with_the_same_alarm_are_one_string_alarm() -> None:
    rig = Rig()
    # end of a discharge: every block under 1.75 V/cell (10.5 V), the weak one lowest
    low = {p: {"voltage_v": 10.4} for p in range(1, 25)}
    low[9] = {"voltage_v": 9.8}
    rig.step(30, string(mode=StringMode.DISCHARGE, current_a=-40.0, voltage_v=24 * 10.4, overrides=low))
    raised = rig.raised()
    assert ("unit_discharge_voltage_low", "strings[0]", "alarm") in raised
    assert not [r for r in raised if ".units[" in r[1]]
    (agg,) = [e for e in rig.events if e.code == "unit_discharge_voltage_low"]
    assert agg.data["units"] == list(range(1, 25))
    assert agg.data["value"] == 9.8
    assert rig.manager.unit_status(0, 9) == "alarm"


def test_alarm_flood_bound_counts_what_it_does_not_raise() -> None:
    rig = Rig(
        settings={"flood": {"max_active": 10, "string_fraction": 1.0, "min_units": 30}},
        config=site_config(count=24),
    )
    hot = {p: {"temperature_c": 50.0} for p in range(1, 25)}
    rig.step(61, string(overrides=hot))
    active = [v for v in rig.manager.views() if v.cleared_at is None]
    assert len(active) == 11  # 10 unit alarms and the one that says more were refused
    assert ("alarm_flood", "site", "warning") in rig.raised()
    assert rig.manager.suppressed > 0


def test_set_threshold_needs_admin_and_is_an_event() -> None:
    rig = Rig()
    assert not rig.manager.set_threshold("unit_temperature_high.warning", 30.0, OPERATOR).ok
    bad = rig.manager.set_threshold("strings[3].unit_temperature_high.warning", 30.0, ADMIN)
    assert not bad.ok
    assert "no string 3" in bad.message
    assert not rig.manager.set_threshold("unit_temperature_high.warnin", 30.0, ADMIN).ok
    ok = rig.manager.set_threshold("strings[0].units[1].unit_temperature_high.delay_s", 0, ADMIN)
    assert ok.ok
    (config_event,) = rig.events
    assert config_event.kind == "config"
    assert config_event.actor == ADMIN
    rig.step(1, string(overrides={2: {"temperature_c": 36.0}, 3: {"temperature_c": 36.0}}))
    assert rig.raised() == [("unit_temperature_high", "strings[0].units[1]", "warning")]


def test_findings_rise_and_clear_with_the_engine() -> None:
    rig = Rig()
    weak = Finding("weak_unit", "warning", 8, 0.71, "capacity 71 % in the last discharge")
    rig.step(3, string(), findings=[weak])
    equalization = (0, Finding("equalization_error", "warning", None, string=None))
    rig.step(30, string(), findings=[equalization])
    assert rig.transitions() == [
        ("raised", "weak_unit", "strings[0].units[8]"),
        ("raised", "equalization_error", "strings[0]"),
    ]
    rig.step(40, string(), findings=[equalization])  # a finding gone for a minute: its cause is gone
    assert rig.transitions()[-1] == ("cleared", "weak_unit", "strings[0].units[8]")
    assert rig.events[0].data["finding"] == "capacity 71 % in the last discharge"


def test_a_finding_that_comes_and_goes_raises_one_alarm() -> None:
    rig = Rig()
    hot = Finding("unit_hot", "warning", 6, 4.0)
    for _ in range(20):  # an estimate hovering at the engine's limit
        rig.step(4, string(), findings=[hot])
        rig.step(4, string(), findings=[])
    assert rig.transitions() == [("raised", "unit_hot", "strings[0].units[6]")]
    rig.step(61, string(), findings=[])
    assert rig.transitions()[-1] == ("cleared", "unit_hot", "strings[0].units[6]")


def test_latched_and_unacknowledged_alarms_survive_a_restart() -> None:
    rig = Rig()
    rig.step(2, string(), findings=[Finding("thermal_runaway", "alarm", 3)])
    rig.step(2, string(overrides={5: {"ri_ohm": 0.0055}}))
    rig.step(2, string())
    rig.manager.set_threshold("unit_ri_rise.warning", 0.3, ADMIN)
    state = rig.manager.state_dict()

    again = Rig()
    again.manager.load_state_dict(state)
    views = {v.code: v for v in again.manager.views()}
    assert views["thermal_runaway"].cleared_at is None
    assert views["unit_ri_rise"].cleared_at is not None  # cleared, waiting for its ack
    assert not again.manager.relay_energized()
    assert again.manager.thresholds.get("unit_ri_rise", 0, 1).warning == 0.3
    again.step(5, string())
    assert again.events == []  # nothing re-raised or cleared by the restart itself
    again.step(2, string(overrides={1: {"ri_ohm": 0.0070}}))
    new_ids = {e.data["alarm_id"] for e in again.events}
    assert min(new_ids) > max(v.id for v in views.values())


def test_a_finding_that_repeats_another_alarm_of_the_unit_is_not_raised() -> None:
    rig = Rig()
    aged = string(overrides={5: {"ri_ohm": 0.0055}})  # +37 % over its baseline: unit_ri_rise warning
    outlier = [Finding("ri_outlier", "warning", 4, 0.0055)]
    rig.step(5, aged, findings=outlier)
    assert rig.raised() == [("unit_ri_rise", "strings[0].units[4]", "warning")]
    # on another unit, with no Ri rise of its own, the outlier finding is the only one saying it
    rig.step(5, aged, findings=[*outlier, Finding("ri_outlier", "warning", 9, 0.006)])
    assert rig.raised()[-1] == ("ri_outlier", "strings[0].units[9]", "warning")
    assert len(rig.raised()) == 2
