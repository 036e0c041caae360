"""The in-process side: the ``sim://`` transport on a gateway config, the world's API, the scenarios."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import ReadInputRegistersRequest

from gateway.core.clock import ManualClock, ScaledClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.config import GatewayConfig
from gateway.core.events import EventBus
from plugins.simulator.bus import reply_delay_s
from plugins.simulator.options import SimOptions
from plugins.simulator.scenario import SCENARIO_DIR, load_scenario, resolve_scenario
from plugins.simulator.site import quick_site
from plugins.simulator.transport import SimTransport, running_worlds
from plugins.simulator.world import World

CLIENT = FramerRTU(DecodePDU(is_server=False))

SITE = {
    "site": {"name": "Test room"},
    "lines": [{"name": "bus1", "url": "sim://lab"}, {"name": "bus2", "url": "sim://lab", "baud": 38400}],
    "strings": [
        {
            "name": "A",
            "units": {"model": "C20", "count": 4, "bus": "bus1", "first_address": 1},
            "current_sensor": {"bus": "bus1", "address": 100},
        },
        {
            "name": "B",
            "chemistry": "vla",
            "nominal_voltage_v": 6.0,
            "rated_capacity_ah": 200.0,
            "units": {"model": "C30ex3", "count": 5, "bus": "bus2", "first_address": 1},
        },
    ],
    "sensors": {"ambient": {"bus": "bus2", "address": 110}},
}


def context(config: object, clock: object) -> GatewayContext:
    return GatewayContext(
        clock=clock,
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=Path("."),
        data_dir=Path("."),
        config=config,
    )


def read_frame(unit: int, address: int, count: int) -> bytes:
    return CLIENT.buildFrame(ReadInputRegistersRequest(address=address, count=count, dev_id=unit))


def decode(reply: bytes) -> list[int]:
    _used, pdu = CLIENT.handleFrame(reply, 0, 0)
    assert pdu is not None
    assert not pdu.isError(), pdu
    return list(pdu.registers)


async def ask(t: SimTransport, unit: int, address: int, count: int) -> list[int]:
    t.reset_input()
    await t.write(read_frame(unit, address, count))
    return decode(await t.read(256, 0.5))


async def test_lines_of_one_world_share_it_and_hold_what_the_config_binds():
    ctx = context(GatewayConfig.model_validate(SITE), ScaledClock(1.0))
    t1, t2 = (SimTransport("sim://lab", SimOptions(), ctx) for _ in range(2))
    await t1.open()
    await t2.open()
    try:
        (world,) = running_worlds()
        assert (t1.line_name, t2.line_name) == ("bus1", "bus2")
        assert [d.address for d in world.devices("bus1")] == [1, 2, 3, 4, 100]
        assert [d.address for d in world.devices("bus2")] == [1, 2, 110]
        assert world.bus("bus2").baud == 19200  # the bus master sets line_baud before opening
        regs = await ask(t1, 1, 0, 10)
        assert regs == [world.registers(1, "bus1")["input"][a] for a in range(10)]
        assert (await ask(t2, 2, 100, 6))[0::5] == [130, 3]  # C30ex3 with three channels
        truth = world.unit_state(1, 4)  # string B, unit 4 = monitor 2, channel 0
        v = (await ask(t2, 2, 2, 1))[0] * 0.001
        assert v == pytest.approx(truth["voltage_v"], rel=0.005)
        assert 6.0 < v < 7.5
        t1.reset_input()
        await t1.write(read_frame(9, 0, 10))
        assert await t1.read(256, 0.05) == b""  # nobody at 9: silence
    finally:
        await t1.close()
        await t2.close()
    assert running_worlds() == []


async def test_a_sim_line_without_config_is_the_demo_site():
    t = SimTransport("sim://demo", SimOptions(), context(None, ScaledClock(1.0)))
    await t.open()
    try:
        addresses = sorted(d.address for d in t.world.devices())
        assert addresses == [*range(1, 49), 100, 101, 110, 120]
        assert (await ask(t, 101, 100, 1)) == [200]
    finally:
        await t.close()


async def test_emulated_timing_holds_the_reply_until_it_has_crossed_the_wire():
    t = SimTransport("sim://timed", SimOptions(emulate_timing=True), context(None, ScaledClock(1.0)))
    t.line_baud = 9600
    await t.open()
    try:
        assert t.char_time_s == pytest.approx(10 / 9600)
        await t.write(read_frame(1, 0, 10))
        assert await t.read(256, 0.0) == b""  # 8 + 25 bytes at 9600 baud: ~38 ms in all
        assert len(decode(await t.read(256, 0.5))) == 10
    finally:
        await t.close()
    assert reply_delay_s(8, 25, 9600, 0.003) == pytest.approx(33 * 10 / 9600 + 3.5 * 10 / 9600 + 0.003)
    assert reply_delay_s(8, 25, 115200, 0.0) == pytest.approx(33 * 10 / 115200 + 0.00175)


def manual_world(scenario: str | None = None, **options: object) -> tuple[World, ManualClock]:
    clock = ManualClock(1_700_000_000.0)
    sc = load_scenario(resolve_scenario(scenario)) if scenario else None
    return World(quick_site(units=24), SimOptions(**options), clock, scenario=sc), clock


def test_every_shipped_scenario_validates():
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    assert names == ["dead-monitor", "line-unplugged", "mains-failure", "ri-ramp", "thermal-runaway"]
    for name in names:
        assert load_scenario(resolve_scenario(name)).events


def test_mains_failure_scenario_discharges_then_recharges():
    world, clock = manual_world("mains-failure")
    clock.advance(119)
    assert world.string_state(0)["current_a"] > 0
    clock.advance(60)
    assert world.string_state(0)["current_a"] < -10
    assert not world.aux_inputs()[0]
    clock.advance(1800)
    state = world.string_state(0)
    assert state["mains_on"]
    assert state["current_a"] == pytest.approx(10.0, rel=0.01)


def test_ri_ramp_and_thermal_runaway_scenarios_change_the_named_unit():
    world, clock = manual_world("ri-ramp", step_s=10)
    before = world.unit_state(0, 5)
    clock.advance(86400 + 60)
    after = world.unit_state(0, 5)
    assert after["ri_ohm"] == pytest.approx(1.65 * before["ri_ohm"], rel=0.1)  # e^0.5, plus the ageing
    assert after["capacity_ah"] == pytest.approx(0.95 * before["capacity_ah"], rel=0.01)
    world, clock = manual_world("thermal-runaway", step_s=10)
    current, volts = world.string_state(0)["current_a"], world.unit_state(0, 7)["voltage_v"]
    clock.advance(6 * 3600)
    hot = world.unit_state(0, 7)
    assert hot["temperature_c"] > world.unit_state(0, 6)["temperature_c"] + 15  # and accelerating
    assert hot["voltage_v"] < volts - 0.5
    assert hot["soc"] < 0.9
    assert world.string_state(0)["current_a"] > 1.05 * current  # the others take the voltage it lost


def test_dead_monitor_and_line_unplugged_scenarios():
    world, clock = manual_world("dead-monitor")
    bus = world.bus()
    serial = world.monitor(3).serial
    clock.advance(31)
    assert bus.request(read_frame(3, 0, 10)) == []
    assert bus.request(read_frame(4, 0, 10))
    clock.advance(300)
    regs = decode(bus.request(read_frame(10, 0, 10))[0].data)
    assert regs[2] == 0
    assert regs[8] & (1 << 6)
    clock.advance(300)
    world.sync()
    assert world.monitor(3).serial != serial
    regs = decode(bus.request(read_frame(3, 100, 6))[0].data)
    assert regs[3] << 16 | regs[4] == world.monitor(3).serial
    world, clock = manual_world("line-unplugged")
    clock.advance(61)
    assert world.bus().request(read_frame(1, 0, 10)) == []
    clock.advance(120)
    assert world.bus().request(read_frame(1, 0, 10))


def test_bus_faults_corrupt_drop_and_add_garbage_reproducibly():
    world, _clock = manual_world(seed=7)
    bus = world.bus()
    bus.faults.garbage_rate = 1.0
    noisy = bus.request(read_frame(1, 100, 6))[0].data
    assert len(noisy) > 17
    bus.faults.garbage_rate, bus.faults.crc_error_rate = 0.0, 1.0
    corrupted = bus.request(read_frame(1, 100, 6))[0].data
    assert not FramerRTU.check_CRC(corrupted[:-2], int.from_bytes(corrupted[-2:], "big"))
    bus.faults.crc_error_rate, bus.faults.drop_rate = 0.0, 1.0
    assert bus.request(read_frame(1, 100, 6)) == []
    assert (bus.stats.garbage, bus.stats.corrupted, bus.stats.dropped) == (1, 1, 1)
    # a request with a bad CRC is not answered, and counted
    frame = read_frame(1, 0, 10)
    assert bus.request(frame[:-1] + bytes([frame[-1] ^ 1])) == []
    assert bus.stats.bad_frames == 1


def test_press_button_api_and_same_seed_same_world():
    world, clock = manual_world(factory_fresh=1)
    assert world.monitor(247).describe()["units"] == [23]
    pressed = world.press_button(247)
    clock.advance(1)
    assert world.registers(247)["input"][0] & 0b10
    assert pressed["serial"] == world.monitor(247).serial
    a, _ = manual_world(seed=5)
    b, _ = manual_world(seed=5)
    assert a.registers(7)["input"] == b.registers(7)["input"]
    assert asyncio.iscoroutinefunction(world.run)
