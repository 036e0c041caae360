"""The hub on the simulator: snapshots fill, commands carry their sender, stale data is never shown."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from gateway.core.clock import ScaledClock
from gateway.core.commands import Actor, Command
from gateway.core.config import load_config
from gateway.core.model import Quality, StringMode
from gateway.core.runtime import Gateway
from gateway.plugins import load_plugins

SITE = """\
site: {{name: Hub test}}
data_dir: state
lines:
  - name: bus1
    url: sim://hubtest
    options: {{seed: 3{options}}}
    polling: {{cycle_s: 1.0}}
strings:
  - name: A
    chemistry: vrla
    rated_capacity_ah: 100
    units: {{model: C20, count: 8, bus: bus1, first_address: 1}}
    current_sensor: {{bus: bus1, address: 100}}
sensors:
  ambient: {{bus: bus1, address: 110}}
  aux: {{bus: bus1, address: 120}}
"""


def make_gateway(tmp_path, options: str = "", speed: float = 20.0) -> Gateway:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(textwrap.dedent(SITE.format(options=options)))
    pl = load_plugins()
    return Gateway(load_config(cfg, pl), pl, ScaledClock(speed))


async def wait_for(predicate, gw: Gateway, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        snap = gw.ctx.snapshot()
        if predicate(snap):
            return snap
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s; last snapshot version {snap.version}")


async def test_the_snapshot_fills_with_every_unit_and_sensor(tmp_path):
    gw = make_gateway(tmp_path)
    await gw.start()
    try:
        snap = await wait_for(
            lambda s: (
                all(u.quality is Quality.GOOD for u in s.units)
                and s.strings[0].current_a is not None
                and s.ambient_c is not None
            ),
            gw,
        )
    finally:
        await gw.stop()
    s = snap.strings[0]
    assert len(s.units) == 8
    assert [u.position for u in s.units] == list(range(1, 9))
    for u in s.units:
        assert 12.8 < u.voltage_v < 14.5  # a 12 V VRLA block on float
        assert 15 < u.temperature_c < 40
        assert u.soc is not None
    assert s.voltage_v == pytest.approx(sum(u.voltage_v for u in s.units), abs=1e-3)
    assert s.spread_v == pytest.approx(max(u.voltage_v for u in s.units) - min(u.voltage_v for u in s.units))
    assert s.mode in (StringMode.FLOAT, StringMode.REST, StringMode.CHARGE)
    assert snap.lines[0].state == "up"
    devices = {d.address: d for d in snap.lines[0].devices}  # per-device statistics, in address order
    assert list(devices) == [*range(1, 9), 100, 110, 120]
    assert [devices[a].model for a in (1, 100, 110, 120)] == ["C20", "CS", "THS", "AUX"]
    assert all(d.state == "ok" and d.requests > 0 and d.serial for d in devices.values())
    assert snap.lines[0].requests > 0
    assert snap.version > 1


async def test_versions_only_grow_and_snapshots_are_immutable(tmp_path):
    gw = make_gateway(tmp_path)
    await gw.start()
    try:
        a = gw.ctx.snapshot()
        b = await wait_for(lambda s: s.version > a.version + 2, gw)
    finally:
        await gw.stop()
    assert b.version > a.version
    with pytest.raises(AttributeError):
        b.version = 0  # type: ignore[misc]


async def test_a_dead_monitor_shows_no_value_and_says_comm_lost(tmp_path):
    gw = make_gateway(tmp_path, options=", dead_units: [3]")
    await gw.start()
    try:
        snap = await wait_for(lambda s: s.strings[0].units[2].quality is Quality.COMM_LOST, gw, timeout=30)
    finally:
        await gw.stop()
    dead = snap.strings[0].units[2]
    assert dead.voltage_v is None
    assert dead.temperature_c is None
    assert dead.status == "comm_lost"
    stats = {d.address: d for d in snap.lines[0].devices}
    assert stats[3].state == "comm_lost"
    assert stats[3].timeouts > 0
    assert stats[4].state == "ok"
    # the others answer (at speed 20 a busy machine may let a reading age into "stale")
    assert all(
        u.quality in (Quality.GOOD, Quality.STALE) for i, u in enumerate(snap.strings[0].units) if i != 2
    )
    assert snap.strings[0].voltage_v is None  # a string sum with a unit missing would be a lie


async def test_commands_are_checked_executed_and_logged_with_their_sender(tmp_path):
    gw = make_gateway(tmp_path)
    sub = gw.events.subscribe()
    await gw.start()
    try:
        viewer = Actor("vera", "viewer", "192.0.2.7", "web")
        operator = Actor("otto", "operator", "192.0.2.8", "modbus")
        refused = await gw.ctx.commands.submit(Command("set_equalization", {"enabled": False}, viewer))
        done = await gw.ctx.commands.submit(Command("set_equalization", {"enabled": False}, operator))
        bad = await gw.ctx.commands.submit(Command("request_ri", {"string": 0, "position": 99}, operator))
    finally:
        await gw.stop()
    assert not refused.ok
    assert "needs role operator" in refused.message
    assert done.ok
    assert not bad.ok
    assert "no unit" in bad.message
    events = []
    while not sub.queue.empty():
        e = sub.queue.get_nowait()
        if e.kind == "command":
            events.append(e)
    assert [(e.actor.user, e.actor.source, e.actor.via, e.data["ok"]) for e in events] == [
        ("vera", "192.0.2.7", "web", False),
        ("otto", "192.0.2.8", "modbus", True),
        ("otto", "192.0.2.8", "modbus", False),
    ]


async def test_learnt_state_is_saved_on_stop_and_restored(tmp_path):
    gw = make_gateway(tmp_path)
    await gw.start()
    try:
        await wait_for(lambda s: s.version > 3, gw)
    finally:
        await gw.stop()
    state_file = tmp_path / "state" / "state" / "engine.json"
    state = json.loads(state_file.read_text())
    assert len(state["engines"]) == 1
    assert "alarms" in state
    gw2 = make_gateway(tmp_path)
    await gw2.start()  # must load what the first run saved without complaint
    await gw2.stop()


async def test_a_line_slower_than_its_cycle_setting_is_not_stale(tmp_path):
    """9600 baud with real line timing at speed 20: a bus cycle spans more simulated seconds than
    three configured cycles, yet every monitor answers — its readings are current, not stale."""
    gw = make_gateway(tmp_path, options=", emulate_timing: true", speed=20.0)
    gw.loaded.root.lines[0].baud = 9600
    await gw.start()
    try:
        snap = await wait_for(lambda s: s.lines[0].cycle_s is not None and s.lines[0].cycle_s > 0.3, gw)
        await asyncio.sleep(1.0)  # several slow cycles
        snap = gw.ctx.snapshot()
    finally:
        await gw.stop()
    took_sim_s = snap.lines[0].cycle_s * 20.0
    assert took_sim_s > 3 * 1.0, "the line must really be slower than three configured cycles"
    assert [u.quality for u in snap.strings[0].units] == [Quality.GOOD] * 8
