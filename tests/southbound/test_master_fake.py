"""The bus master against an in-memory line: polls, retries, comm-loss, identity, writes, line loss."""

from __future__ import annotations

import itertools

import pytest

from gateway.core.bus.units import MonitorBinding
from gateway.core.model import Quality
from tests.southbound.fakebus import FakeDevice, FakeLine, c20
from tests.southbound.helpers import make_master, manual_ctx


async def test_one_cycle_decodes_every_c20():
    ctx = manual_ctx()
    fake = FakeLine(ctx, [c20(a, 1000 + a, 13_000 + a) for a in (1, 2, 3)])
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in (1, 2, 3)])
    r = await m.run_once()
    assert [x.voltage_v for x in r.readings] == [13.001, 13.002, 13.003]
    assert all(x.quality is Quality.GOOD and x.temperature_c == 23.5 for x in r.readings)
    assert fake.broadcasts == 1
    assert r.comm_lost == frozenset()
    assert r.line_stats.state == "up"
    assert r.unit_stats[2].serial == 1002


async def test_dead_unit_is_comm_lost_after_three_cycles_and_rejoins():
    ctx = manual_ctx()
    devs = [c20(a) for a in (1, 2, 3)]
    fake = FakeLine(ctx, devs)
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in (1, 2, 3)], timeout_s=0.01)
    await m.run_once()
    devs[1].dead = True
    lost_at = None
    for cycle in range(1, 6):
        r = await m.run_once()
        if r.comm_lost and lost_at is None:
            lost_at = cycle
            assert r.comm_lost == frozenset({2})
            assert [e.code for e in r.events] == ["comm_lost"]
            assert r.events[0].state == "raised"
    assert lost_at == 3
    q = {x.address: x.quality for x in r.readings}
    assert q == {1: Quality.GOOD, 2: Quality.COMM_LOST, 3: Quality.GOOD}
    assert next(x for x in r.readings if x.address == 2).voltage_v is None
    devs[1].dead = False
    back = None
    for cycle in range(1, 8):
        r = await m.run_once()
        if not r.comm_lost:
            back = cycle
            assert any(e.code == "comm_lost" and e.state == "cleared" for e in r.events)
            break
    assert back is not None
    assert back <= 5  # probed every 5 cycles


async def test_wrong_model_is_an_identity_alarm_not_numbers():
    ctx = manual_ctx()
    wrong = FakeDevice(1, 30, 4242)
    wrong.inputs.update({2: 6500})
    fake = FakeLine(ctx, [wrong, c20(2, serial=7)])
    m, _ = make_master(fake, [MonitorBinding(1, "C20"), MonitorBinding(2, "C20", expected_serial=8)])
    r = await m.run_once()
    assert {p.address for p in r.identity_problems} == {1, 2}
    p1 = next(p for p in r.identity_problems if p.address == 1)
    assert p1.found.startswith("C30 serial 4242")
    assert p1.expected == "C20"
    assert all(x.voltage_v is None and "identity_mismatch" in x.flags for x in r.readings)
    assert sum(e.code == "identity_mismatch" for e in r.events) == 2
    r = await m.run_once()
    assert not [e for e in r.events if e.code == "identity_mismatch"]  # announced once


async def test_bypass_written_on_change_and_refreshed_before_watchdog():
    ctx = manual_ctx()
    dev = c20(1)
    dev.inputs.update({4: 1200, 5: 100})  # Ri measured already: nothing pauses the bypass
    fake = FakeLine(ctx, [dev])
    m, _ = make_master(fake, [MonitorBinding(1, "C20")], bypass_watchdog_s=60, ri_interval_h=1000)
    await m.run_once()
    assert (6, 3, (60,)) in dev.writes  # watchdog configured on join
    m.set_bypass(1, 0, 0.25)
    await m.run_once()
    assert dev.holding[0] == 250
    n = len([w for w in dev.writes if w[1] == 0])
    await m.run_once()
    assert len([w for w in dev.writes if w[1] == 0]) == n  # unchanged: not re-sent
    ctx.clock.advance(31)
    await m.run_once()
    assert len([w for w in dev.writes if w[1] == 0]) == n + 1  # refreshed at half the watchdog


async def test_ri_pauses_bypass_and_runs_one_unit_at_a_time():
    ctx = manual_ctx()
    devs = [c20(a) for a in (1, 2)]
    fake = FakeLine(ctx, devs)
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in (1, 2)], ri_duration_s=2.5)
    m.set_bypass(1, 0, 0.5)
    await m.run_once()  # Ri never measured: both want one; only unit 1 starts
    assert [w for w in devs[0].writes if w[1] == 5] == [(6, 5, (1,))]
    assert not [w for w in devs[1].writes if w[1] == 5]
    assert devs[0].holding[0] == 0  # bypass paused for the measurement
    ctx.clock.advance(3)
    devs[0].holding[5] = 0
    await m.run_once()
    assert [w for w in devs[1].writes if w[1] == 5] == [(6, 5, (1,))]
    assert devs[0].holding[0] == 500  # restored after the pulse


async def test_ri_waits_while_not_permitted():
    ctx = manual_ctx()
    dev = c20(1)
    fake = FakeLine(ctx, [dev])
    m, _ = make_master(fake, [MonitorBinding(1, "C20")])
    m.ri_permitted = lambda address: False
    m.request_ri(1, 0)
    await m.run_once()
    assert not [w for w in dev.writes if w[1] == 5]
    m.ri_permitted = lambda address: True
    await m.run_once()
    assert [w for w in dev.writes if w[1] == 5]


async def test_silent_line_is_one_event_and_recovers_in_one_cycle():
    ctx = manual_ctx()
    devs = [c20(a) for a in range(1, 11)]
    fake = FakeLine(ctx, devs)
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in range(1, 11)], timeout_s=0.01)
    await m.run_once()
    fake.silent = True
    events = []
    requests = []
    for _ in range(4):
        r = await m.run_once()
        events += r.events
        requests.append(r.line_stats.requests)
        assert r.line_stats.state == "down"
        assert all(x.quality is Quality.COMM_LOST for x in r.readings)
    assert [e.code for e in events] == ["line_down"]
    # once known down, a cycle costs the broadcast and three probes, not ten units' timeouts
    assert [b - a for a, b in itertools.pairwise(requests)] == [4, 4, 4]
    fake.silent = False
    r = await m.run_once()
    assert r.line_stats.state == "up"
    assert all(x.quality is Quality.GOOD for x in r.readings)
    assert [(e.code, e.state) for e in r.events] == [("line_down", "cleared")]


async def test_crc_errors_and_drops_are_retried_without_false_readings():
    ctx = manual_ctx()
    devs = [c20(a, volts_mv=12_000 + a) for a in range(1, 21)]
    fake = FakeLine(ctx, devs, seed=7)
    fake.crc_error_rate, fake.drop_rate = 0.05, 0.02
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in range(1, 21)], timeout_s=0.005)
    for _ in range(10):
        r = await m.run_once()
        assert not r.comm_lost
        for x in r.readings:
            assert x.voltage_v is None or x.voltage_v == 12.0 + x.address / 1000
    assert r.line_stats.crc_errors > 0


async def test_relay_written_when_changed():
    ctx = manual_ctx()
    aux = FakeDevice(120, 220, 5, channels=0)
    fake = FakeLine(ctx, [aux])
    m, _ = make_master(fake, [MonitorBinding(120, "AUX")])
    m.set_relay(120, 1, True)
    await m.run_once()
    assert aux.coils[1] == 1
    r = await m.run_once()
    assert r.readings[0].values["relays"] == (False, True)
    with pytest.raises(ValueError, match="no relay 2"):
        m.set_relay(120, 2, True)


async def test_port_that_cannot_open_is_retried():
    ctx = manual_ctx()
    fake = FakeLine(ctx, [c20(1)])
    fake.fail_open = True
    m, _ = make_master(fake, [MonitorBinding(1, "C20")])
    r = await m.run_once()
    assert r.line_stats.state == "reconnecting"
    assert r.readings[0].quality is Quality.COMM_LOST
    fake.fail_open = False
    r = await m.run_once()
    assert r.line_stats.state == "up"
    assert r.readings[0].quality is Quality.GOOD


async def test_ri_slots_are_staggered_over_the_interval():
    ctx = manual_ctx()
    devs = [c20(a) for a in (1, 2, 3, 4)]
    for d in devs:
        d.inputs.update({4: 1500, 5: 10})  # measured recently: each waits for its slot
    fake = FakeLine(ctx, devs)
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in (1, 2, 3, 4)], ri_interval_h=1.0)
    started: list[tuple[float, int]] = []
    t0 = ctx.clock.monotonic()
    for _ in range(int(3600 / 60) + 1):
        await m.run_once()
        for d in devs:
            if d.holding.get(5):
                started.append((ctx.clock.monotonic() - t0, d.address))
                d.holding[5] = 0
        ctx.clock.advance(60)
    assert [a for _t, a in started] == [1, 2, 3, 4]
    slots = [t for t, _a in started]
    assert all(b - a >= 800 for a, b in itertools.pairwise(slots))  # a quarter hour apart, not at once


async def test_reading_whose_seq_did_not_move_is_stale():
    ctx = manual_ctx()
    dev = c20(1)
    fake = FakeLine(ctx, [dev])
    m, _ = make_master(fake, [MonitorBinding(1, "C20")])
    r = await m.run_once()
    assert r.readings[0].quality is Quality.GOOD
    dev.measure = lambda: None  # it missed the broadcast MEASURE
    r = await m.run_once()
    assert r.readings[0].quality is Quality.STALE
    assert r.readings[0].voltage_v == 13.5  # the value is kept, its age is flagged


def test_bindings_for_line_from_the_root_config():
    from gateway.core.bus.units import bindings_for_line
    from gateway.core.config import GatewayConfig
    from tests.southbound.helpers import DRIVERS

    cfg = GatewayConfig.model_validate(
        {
            "lines": [{"name": "bus1", "url": "sim://x"}, {"name": "bus2", "url": "sim://x"}],
            "strings": [
                {
                    "name": "A",
                    "units": {
                        "model": "C20ex3",
                        "count": 7,
                        "bus": "bus1",
                        "first_address": 10,
                        "serials": [111, 222],
                    },
                    "current_sensor": {"bus": "bus2", "address": 100},
                },
                {"name": "B", "units": {"model": "C40", "count": 2, "bus": "bus2", "first_address": 1}},
            ],
            "sensors": {"ambient": {"bus": "bus1", "address": 110}},
        }
    )
    b1 = bindings_for_line(cfg, "bus1", DRIVERS)
    assert [(b.address, b.model, b.expected_serial) for b in b1] == [
        (10, "C20ex3", 111),
        (11, "C20ex3", 222),
        (12, "C20ex3", None),
        (110, "THS", None),
    ]
    assert [(b.address, b.model) for b in bindings_for_line(cfg, "bus2", DRIVERS)] == [
        (1, "C40"),
        (2, "C40"),
        (100, "CS"),
    ]


def test_bypass_on_a_device_without_bypass_is_ignored_and_bad_channels_are_refused():
    ctx = manual_ctx()
    fake = FakeLine(ctx, [c20(1), FakeDevice(100, 200, 9)])
    m, _ = make_master(fake, [MonitorBinding(1, "C20"), MonitorBinding(100, "CS")])
    m.set_bypass(100, 0, 0.5)  # the engine drives every unit alike: no error, no write
    with pytest.raises(ValueError, match="no channel 1"):
        m.set_bypass(1, 1, 0.5)
    with pytest.raises(KeyError):
        m.set_bypass(7, 0, 0.5)


async def test_line_with_dead_first_monitors_still_comes_up():
    ctx = manual_ctx()
    devs = [c20(a) for a in range(1, 9)]
    for d in devs[:4]:
        d.dead = True
    fake = FakeLine(ctx, devs)
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in range(1, 9)], timeout_s=0.005)
    states = []
    for _ in range(3):
        r = await m.run_once()
        states.append(r.line_stats.state)
    assert states[-1] == "up"
    assert {x.address for x in r.readings if x.quality is Quality.GOOD} == {5, 6, 7, 8}


async def test_a_monitor_replaced_at_its_address_is_an_event_and_its_readings_are_used():
    ctx = manual_ctx()
    dev = c20(2, serial=7)
    fake = FakeLine(ctx, [c20(1), dev])
    m, _ = make_master(fake, [MonitorBinding(a, "C20") for a in (1, 2)], timeout_s=0.01)
    await m.run_once()
    dev.dead = True  # unplugged for the swap ...
    for _ in range(3):
        await m.run_once()
    dev.inputs.update({103: 0, 104: 9, 2: 13_250})  # ... and a new monitor, serial 9, at address 2
    dev.dead = False
    events = []
    for _ in range(6):  # a lost unit is probed every few cycles
        r = await m.run_once()
        events += r.events
        if not r.comm_lost:
            break
    assert [(e.code, e.source) for e in events if e.code == "monitor_replaced"] == [
        ("monitor_replaced", "lines[bus1].devices[2]")
    ]
    assert "serial 7 replaced by serial 9" in next(e.message for e in events if e.code == "monitor_replaced")
    assert not r.identity_problems
    assert next(x for x in r.readings if x.address == 2).voltage_v == 13.25
    assert r.unit_stats[2].serial == 9
