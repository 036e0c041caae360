"""The bus master against the real simulator over ``sim://``: decoding, writes, faults, the wizard."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from gateway.core.bus.tools import address_wizard, rtu_for, scan
from gateway.core.model import ChannelReading, Quality, SensorReading
from plugins.monitors.blocks import BLOCK_DRIVERS
from plugins.simulator.options import SimOptions
from tests.southbound.helpers import DRIVERS
from tests.southbound.simsite import sim_master, site_config


def _s16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


@pytest.mark.parametrize("model", [c.model for c in BLOCK_DRIVERS])
async def test_readings_equal_what_the_simulator_holds(model: str):
    master, transport, _ = sim_master(site_config(model, count=6))
    try:
        result = await master.run_once()
        world = transport.world
        drv = DRIVERS[model]
        channels = [r for r in result.readings if isinstance(r, ChannelReading)]
        assert len(channels) == 6 + (-6 % drv.channels)
        for r in channels:
            held = world.monitor(r.address)
            v_raw, t_raw = held.v_raw[r.channel], held.t_raw[r.channel]
            fuse = held.cflags[r.channel] >> 6 & 1
            assert r.voltage_v == (None if fuse else pytest.approx(v_raw * drv.voltage_lsb_v, abs=1e-9))
            assert r.temperature_c == pytest.approx(_s16(t_raw) / 10)
            assert r.seq == held.seq
        assert not result.identity_problems
        sensors = {r.address: r for r in result.readings if isinstance(r, SensorReading)}
        cs, ths, aux = world.monitor(100), world.monitor(110), world.monitor(120)
        cs_regs, ths_regs = cs.input_registers(world.elapsed()), ths.input_registers(world.elapsed())
        current = (cs_regs[2] << 16 | cs_regs[3]) - (1 << 32 if cs_regs[2] & 0x8000 else 0)
        assert sensors[100].values["current_a"] == pytest.approx(current / 1000)
        assert sensors[100].values["ripple_a"] == pytest.approx(cs_regs[4] / 1000)
        assert sensors[110].values["temperature_c"] == pytest.approx(_s16(ths_regs[2]) / 10)
        assert sensors[110].values["humidity_pct"] == pytest.approx(ths_regs[3] / 10)
        assert list(sensors[120].values["inputs"]) == world.aux_inputs()
        assert aux.address == 120
    finally:
        await transport.close()


async def test_bypass_reaches_monitors_and_watchdog_refresh_keeps_it():
    master, transport, _ = sim_master(
        site_config("C20ex3", count=6, sensors=False), bypass_watchdog_s=10, ri_interval_h=1000
    )
    clock = master.ctx.clock
    try:
        await master.run_once()
        for unit in master.units.values():
            unit.ri_requested, unit.ri_started_once = False, True  # this test is about the bypass
        clock.advance(3.0)  # the first cycle started an Ri pulse on unit 1: let it finish
        master.set_bypass(1, 2, 0.4)
        master.set_bypass(2, 0, 0.25)
        await master.run_once()
        world = transport.world
        assert world.monitor(1).bypass_cmd == [0, 0, 400]
        assert world.monitor(2).bypass_cmd == [250, 0, 0]
        assert world.monitor(1).watchdog_s == 10
        for _ in range(15):  # 30 s of simulated time, three watchdog periods
            clock.advance(2.0)
            r = await master.run_once()
            assert world.monitor(1).bypass_cmd == [0, 0, 400]
            assert not any("watchdog_expired" in x.flags for x in r.readings)
        master.set_bypass(1, 2, 0.0)
        await master.run_once()
        assert world.monitor(1).bypass_cmd == [0, 0, 0]
    finally:
        await transport.close()


async def test_faults_crc_drops_dead_unit_and_line_outage():
    options = SimOptions(crc_error_rate=0.05, drop_rate=0.02, dead_units=[4], seed=3)
    master, transport, _ = sim_master(site_config("C20", count=12), options, timeout_s=0.02)
    clock = master.ctx.clock
    try:
        lost_cycles: list[int] = []
        for cycle in range(1, 11):
            clock.advance(2.0)
            r = await master.run_once()
            if r.comm_lost:
                lost_cycles.append(cycle)
                assert r.comm_lost == frozenset({4})
            _assert_no_false_readings(r, transport.world)
        assert lost_cycles[0] <= 3
        assert r.line_stats.crc_errors > 0
        # the line goes away for 30 s of simulated time
        world = transport.world
        world.bus().faults.unplugged_until = world.elapsed() + 30
        for _ in range(14):  # 14 cycles of 2.05 s: the line is still gone
            clock.advance(2.0)
            r = await master.run_once()
            assert r.line_stats.state == "down"
            assert all(x.quality is Quality.COMM_LOST for x in r.readings)
        clock.advance(2.0)
        r = await master.run_once()
        assert r.line_stats.state == "up"
        assert r.comm_lost == frozenset({4})
        good = {x.address for x in r.readings if x.quality is Quality.GOOD}
        assert good == set(range(1, 13)) - {4} | {100, 110, 120}
    finally:
        await transport.close()


def _assert_no_false_readings(r, world) -> None:
    for x in r.readings:
        if isinstance(x, ChannelReading) and x.quality is Quality.GOOD:
            held = world.monitor(x.address)
            assert x.voltage_v == pytest.approx(held.v_raw[x.channel] / 1000, abs=1e-9)


async def test_wizard_addresses_factory_fresh_monitors():
    config = site_config("C20", count=6, sensors=False)
    _master, transport, _ = sim_master(config, SimOptions(factory_fresh=3))
    try:
        await transport.open()
        world = transport.world
        fresh = [d.serial for d in world.devices() if d.address == 247]
        assert len(fresh) == 3
        rtu = rtu_for(transport, 19200, 0.02)
        said: list[str] = []

        async def presser() -> None:
            for serial in fresh:
                world.press_button(serial=serial)
                while world.by_serial(serial).address == 247:
                    await asyncio.sleep(0.01)

        task = asyncio.create_task(presser())
        done = await address_wizard(rtu, DRIVERS, start=4, count=3, wait_s=5, say=said.append)
        await task
        assert [(f.address, f.identity.serial) for f in done] == list(zip([4, 5, 6], fresh, strict=True))
        assert [world.by_serial(s).address for s in fresh] == [4, 5, 6]
        found = await scan(rtu, DRIVERS, range(1, 8))
        assert [f.address for f in found] == [1, 2, 3, 4, 5, 6]
    finally:
        await transport.close()


async def test_wizard_detects_two_monitors_in_learn_mode():
    config = site_config("C20", count=4, sensors=False)
    _master, transport, _ = sim_master(config, SimOptions(factory_fresh=2))
    try:
        await transport.open()
        world = transport.world
        fresh = [d.serial for d in world.devices() if d.address == 247]
        for serial in fresh:
            world.press_button(serial=serial)
        said: list[str] = []
        rtu = rtu_for(transport, 19200, 0.02)
        done = await address_wizard(rtu, DRIVERS, start=3, count=1, wait_s=1, say=said.append)
        assert done == []
        assert any("two devices were in learn mode at once" in s for s in said)
        assert [world.by_serial(s).address for s in fresh] == [247, 247]  # both reset, none half-addressed
    finally:
        await transport.close()


async def test_master_task_runs_cycles_on_the_clock_and_stops_cleanly():
    from gateway.core.clock import ScaledClock

    master, transport, results = sim_master(site_config("C20", count=4), clock=ScaledClock(10.0), cycle_s=2.0)
    await master.start()
    try:
        for _ in range(200):
            if len(results) >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        await master.stop()
    assert len(results) >= 3
    assert all(r.line_stats.state == "up" for r in results)
    gaps = [b.time - a.time for a, b in itertools.pairwise(results)]
    assert all(1.95 <= g <= 2.6 for g in gaps), gaps  # one cycle every 2 s of simulated time
    assert transport.bus is None  # stop() closed the line
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith(("bus-master", "sim-world"))]
