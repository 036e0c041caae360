"""The monitors' datasheet, register by register, read through ``cellgate simulate --listen`` with
pymodbus's RTU-over-TCP client (an implementation independent of the simulator's bus code)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType

from plugins.simulator.models import BLOCK_MODELS


@asynccontextmanager
async def rtu(sim: Any, timeout: float = 0.3) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=sim.port, framer=FramerType.RTU, timeout=timeout, retries=0
    )
    await client.connect()
    try:
        yield client
    finally:
        client.close()


def error_code(reply: Any) -> int | None:
    return reply.exception_code if reply.isError() else None


async def ir(c: AsyncModbusTcpClient, unit: int, address: int, count: int) -> list[int]:
    reply = await c.read_input_registers(address, count=count, device_id=unit)
    assert not reply.isError(), reply
    return list(reply.registers)


async def hr(c: AsyncModbusTcpClient, unit: int, address: int, count: int) -> list[int]:
    reply = await c.read_holding_registers(address, count=count, device_id=unit)
    assert not reply.isError(), reply
    return list(reply.registers)


@pytest.mark.parametrize("model", list(BLOCK_MODELS))
async def test_every_block_model_reports_identity_and_a_full_measurement(simulate, model):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "3", "--model", model)
    spec = BLOCK_MODELS[model]
    last = 9 if spec.channels == 1 else 25
    lsb = spec.v_lsb
    async with rtu(sim) as c:
        ident = await ir(c, 1, 100, 6)
        assert ident[0] == spec.code
        assert ident[5] == spec.channels
        assert ident[2] == 0x0104
        assert (ident[3] << 16 | ident[4]) > 0
        regs = await ir(c, 1, 0, last + 1)
        assert regs[0] & 1  # ready
        for ch in range(spec.channels):
            truth = sim.control(f"state 0 {ch + 1}")["state"]
            v, t, ri, ri_age, duty, ibyp, flags, reserved = regs[2 + 8 * ch : 10 + 8 * ch]
            assert v * lsb == pytest.approx(truth["voltage_v"], rel=0.005)
            assert t / 10 == pytest.approx(truth["temperature_c"], abs=1.0)
            assert (ri, ri_age, duty, ibyp, flags, reserved) == (0xFFFF, 65535, 0, 0, 0, 0)
        assert error_code(await c.read_input_registers(last + 1, count=1, device_id=1)) == 2
        assert error_code(await c.read_input_registers(0, count=last + 2, device_id=1)) == 2
        assert error_code(await c.read_input_registers(106, count=1, device_id=1)) == 2


async def test_holding_registers_defaults_and_every_range_check(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "2")
    async with rtu(sim) as c:
        assert await hr(c, 2, 0, 13) == [0, 0, 0, 60, 0, 0, 0, 2, 1, 0, 0, 0, 0]
        assert error_code(await c.read_holding_registers(13, count=1, device_id=2)) == 2
        refused = [
            (0, 1001),
            (1, 5),
            (2, 1),
            (3, 4),
            (3, 601),
            (4, 2),
            (5, 0),
            (6, 601),
            (7, 10),
            (8, 5),
            (9, 0x1234),
            (11, 3),
            (12, 0xFFFF),
        ]
        for reg, value in refused:
            reply = await c.write_register(reg, value, device_id=2)
            assert error_code(reply) == 3, (reg, value)
        assert error_code(await c.write_register(13, 0, device_id=2)) == 2
        for reg, value in [(0, 1000), (1, 0), (3, 0), (3, 5), (3, 600), (6, 10), (8, 2), (10, 0xFFCE)]:
            assert not (await c.write_register(reg, value, device_id=2)).isError(), (reg, value)
        regs = await hr(c, 2, 0, 13)
        assert regs[0] == 1000
        assert regs[3] == 600
        assert 0 < regs[6] <= 10
        assert regs[8] == 2
        assert regs[10] == 0xFFCE
        # function 16: all or nothing
        assert not (await c.write_registers(0, [250, 0, 0, 30], device_id=2)).isError()
        assert (await hr(c, 2, 0, 4)) == [250, 0, 0, 30]
        assert error_code(await c.write_registers(0, [100, 0, 0, 2], device_id=2)) == 3
        assert (await hr(c, 2, 0, 4)) == [250, 0, 0, 30]
        assert error_code(await c.write_registers(12, [0, 0], device_id=2)) == 2


async def test_functions_a_block_monitor_lacks_answer_illegal_function(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "1")
    async with rtu(sim) as c:
        assert error_code(await c.read_coils(0, count=1, device_id=1)) == 1
        assert error_code(await c.read_discrete_inputs(0, count=1, device_id=1)) == 1
        assert error_code(await c.write_coil(0, True, device_id=1)) == 1
        assert error_code(await c.write_coils(0, [True], device_id=1)) == 1
        assert error_code(await c.report_device_id(device_id=1)) == 1
        assert (
            error_code(
                await c.readwrite_registers(
                    read_address=0, read_count=1, write_address=0, values=[0], device_id=1
                )
            )
            == 1
        )
        assert error_code(await c.mask_write_register(address=0, and_mask=0, or_mask=0, device_id=1)) == 1


async def test_absent_unit_ids_get_silence_and_the_line_stays_usable(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "2")
    async with rtu(sim) as c:
        for unit in (3, 77, 246):
            with pytest.raises(ModbusIOException):
                await c.read_input_registers(0, count=10, device_id=unit)
        assert (await ir(c, 2, 100, 1)) == [20]
    assert sim.control("stats")["stats"]["unanswered"] == 3


async def test_bypass_duty_is_live_and_expires_by_watchdog(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "1", "--speed", "20")
    async with rtu(sim) as c:
        assert not (await c.write_register(3, 5, device_id=1)).isError()
        assert not (await c.write_register(0, 500, device_id=1)).isError()
        regs = await ir(c, 1, 0, 10)
        assert regs[6] == 500
        assert regs[8] & (1 << 4)
        assert sim.control("state 0 1")["state"]["bypass_current_a"] == pytest.approx(0.075)
        assert error_code(await c.write_register(5, 1, device_id=1)) == 6  # no Ri while bypassing
        await c.write_register(4, 1, device_id=1)
        await asyncio.sleep(0.05)
        assert (await ir(c, 1, 7, 1)) == [75]  # IBYP, mA, of the last measurement
        await asyncio.sleep(0.5)  # 10 s simulated: the 5 s watchdog has expired
        regs = await ir(c, 1, 0, 10)
        assert regs[6] == 0
        assert not regs[8] & (1 << 4)
        assert regs[0] & (1 << 6)
        assert not (await ir(c, 1, 0, 1))[0] & (1 << 6)  # cleared by the read
        assert (await hr(c, 1, 0, 1)) == [0]


async def test_measure_and_ri_measure_follow_status_and_seq(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "1", "--speed", "10")
    async with rtu(sim) as c:
        seq = (await ir(c, 1, 1, 1))[0]
        await c.write_register(4, 1, device_id=1)
        status = (await ir(c, 1, 0, 1))[0]
        await asyncio.sleep(0.05)
        assert (await ir(c, 1, 1, 1))[0] != seq
        assert status & (1 << 2) or (await ir(c, 1, 1, 1))[0] != seq
        assert not (await c.write_register(5, 1, device_id=1)).isError()
        assert (await ir(c, 1, 0, 1))[0] & (1 << 3)
        assert error_code(await c.write_register(5, 1, device_id=1)) == 6  # one is running
        await asyncio.sleep(0.4)  # 4 s simulated: the 2 s load pulse is over
        regs = await ir(c, 1, 0, 10)
        assert not regs[0] & (1 << 3)
        truth = sim.control("state 0 1")["state"]
        assert regs[4] * 1e-5 == pytest.approx(truth["ri_ohm"], rel=0.03)
        assert regs[5] < 30


async def test_broadcast_measure_bypass_off_and_ignored_writes(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "3")
    async with rtu(sim) as c:
        for unit in (1, 2, 3):
            await c.write_register(0, 200, device_id=unit)
        seqs = [(await ir(c, u, 1, 1))[0] for u in (1, 2, 3)]
        await c.write_register(4, 1, device_id=0, no_response_expected=True)
        await asyncio.sleep(0.1)
        assert [(await ir(c, u, 1, 1))[0] for u in (1, 2, 3)] == [(s + 1) & 0xFFFF for s in seqs]
        await c.write_register(6, 30, device_id=0, no_response_expected=True)  # not allowed: ignored
        await c.write_register(0, 300, device_id=0, no_response_expected=True)  # only 0 is allowed
        await asyncio.sleep(0.05)
        assert [(await hr(c, u, 0, 1))[0] for u in (1, 2, 3)] == [200, 200, 200]
        assert [(await hr(c, u, 6, 1))[0] for u in (1, 2, 3)] == [0, 0, 0]
        await c.write_registers(0, [0, 0, 0], device_id=0, no_response_expected=True)
        await asyncio.sleep(0.05)
        assert [(await hr(c, u, 0, 1))[0] for u in (1, 2, 3)] == [0, 0, 0]
    assert sim.control("stats")["stats"]["broadcasts"] == 4


async def test_learn_mode_addressing_at_247(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "3", "--factory-fresh", "1")
    async with rtu(sim) as c:
        with pytest.raises(ModbusIOException):
            await c.read_input_registers(100, count=1, device_id=3)
        assert (await ir(c, 247, 100, 1)) == [20]
        assert (await hr(c, 247, 7, 1)) == [247]
        assert error_code(await c.write_register(7, 50, device_id=247)) == 3  # no button, no address
        pressed = sim.control("press 247")["device"]
        assert (await ir(c, 247, 0, 1))[0] & (1 << 1)  # learn mode
        reply = await c.write_register(7, 50, device_id=247)  # answered from the old ID
        assert not reply.isError()
        assert reply.dev_id == 247
        assert (await ir(c, 50, 103, 2)) == [pressed["serial"] >> 16, pressed["serial"] & 0xFFFF]
        with pytest.raises(ModbusIOException):
            await c.read_input_registers(100, count=1, device_id=247)
        # an addressed device in learn mode also answers at 247, until its ADDRESS is written
        sim.control("press 2")
        assert (await hr(c, 247, 7, 1)) == [2]
        assert not (await c.write_register(7, 60, device_id=2)).isError()
        assert (await hr(c, 60, 7, 1)) == [60]
        with pytest.raises(ModbusIOException):
            await c.read_holding_registers(7, count=1, device_id=2)
        assert not (await ir(c, 60, 0, 1))[0] & (1 << 1)


async def test_two_devices_at_247_garble_each_other(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "3", "--factory-fresh", "2")
    async with rtu(sim) as c:
        with pytest.raises(ModbusIOException):
            await c.read_input_registers(100, count=6, device_id=247)
    assert sim.control("stats")["stats"]["collisions"] == 1


async def test_reboot_keeps_settings_and_factory_reset_restores_them(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "2", "--speed", "5")
    async with rtu(sim) as c:
        await c.write_register(5, 1, device_id=1)
        await asyncio.sleep(0.5)
        assert (await ir(c, 1, 4, 1))[0] != 0xFFFF
        await c.write_registers(10, [7], device_id=1)
        await c.write_register(3, 100, device_id=1)
        assert not (await c.write_register(9, 0xA55A, device_id=1)).isError()
        with pytest.raises(ModbusIOException):
            await c.read_input_registers(0, count=1, device_id=1)  # booting (500 ms)
        await asyncio.sleep(0.2)
        regs = await ir(c, 1, 0, 10)
        assert regs[1] < 3
        assert regs[4] == 0xFFFF
        assert regs[5] == 65535
        assert (await hr(c, 1, 3, 1)) == [100]
        assert (await hr(c, 1, 10, 1)) == [7]
        assert not (await c.write_register(9, 0x5AA5, device_id=1)).isError()
        await asyncio.sleep(0.2)
        assert (await hr(c, 247, 0, 13)) == [0, 0, 0, 60, 0, 0, 0, 247, 1, 0, 0, 0, 0]
        sim.control("press 2 12")  # holding the button 10–15 s is a factory reset too
        await asyncio.sleep(0.2)
        with pytest.raises(ModbusIOException):
            await c.read_input_registers(0, count=1, device_id=2)


async def test_calibration_offset_and_range_flags(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "1", "--unit-spread", "0")
    async with rtu(sim) as c:
        await c.write_register(4, 1, device_id=1)
        await asyncio.sleep(0.06)
        before = (await ir(c, 1, 2, 1))[0]
        await c.write_register(10, 100, device_id=1)
        await c.write_register(4, 1, device_id=1)
        await asyncio.sleep(0.06)
        assert 70 < (await ir(c, 1, 2, 1))[0] - before < 130
        await c.write_register(10, 5000, device_id=1)  # 13.6 V + 5 V: above the C20's 17 V
        await c.write_register(4, 1, device_id=1)
        await asyncio.sleep(0.06)
        v, _t, _ri, _age, _duty, _ibyp, flags = await ir(c, 1, 2, 7)
        assert v == 17000
        assert flags & 1
        await c.write_register(10, (-5000) & 0xFFFF, device_id=1)
        await c.write_register(4, 1, device_id=1)
        await asyncio.sleep(0.06)
        v, *_rest, flags = await ir(c, 1, 2, 7)
        assert v == 9700
        assert flags & 2
        assert not flags & 1


async def test_ri_below_the_c41_range_reads_the_limit_with_its_flag(simulate):
    # a 100 Ah LFP cell has ~0.4 mΩ: below the C41's 0.5 mΩ
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "1", "--model", "C41", "--speed", "10")
    async with rtu(sim) as c:
        await c.write_register(5, 1, device_id=1)
        await asyncio.sleep(0.4)
        regs = await ir(c, 1, 0, 10)
        assert regs[4] == 50
        assert regs[8] & (1 << 3)


async def test_blown_fuse_and_failed_temperature_sensor(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "2")
    sim.control('event {"do": "fuse_blown", "address": 1}')
    sim.control('event {"do": "sensor_fault", "address": 2}')
    async with rtu(sim) as c:
        await c.write_register(4, 1, device_id=0, no_response_expected=True)
        await asyncio.sleep(0.06)
        v, t, *_rest, flags = await ir(c, 1, 2, 7)
        assert v == 0
        assert flags & (1 << 6)
        v, t, *_rest, flags = await ir(c, 2, 2, 7)
        assert t == 0x8000
        assert flags & (1 << 2)
        assert 9700 < v < 17000


async def test_current_sensor_ambient_sensor_and_aux_module(simulate):
    sim = simulate("--listen", "tcp://127.0.0.1:0", "--units", "2", "--speed", "10")
    async with rtu(sim) as c:
        assert (await ir(c, 100, 100, 6))[0::5] == [200, 1]
        assert (await ir(c, 110, 100, 6))[0::5] == [210, 1]
        assert (await ir(c, 120, 100, 6))[0::5] == [220, 0]
        cs = await ir(c, 100, 0, 7)
        assert cs[6] == 100
        assert cs[5] == 0
        sim.control('event {"do": "mains_failure"}')
        await asyncio.sleep(0.3)
        cs = await ir(c, 100, 0, 7)
        current_ma = (cs[2] << 16 | cs[3]) - (1 << 32 if cs[2] & 0x8000 else 0)
        truth = sim.control("string 0")["state"]
        assert current_ma / 1000 == pytest.approx(truth["current_a"], rel=0.05)
        assert current_ma < -1000
        assert cs[4] > 0  # ripple
        seq = (await ir(c, 100, 1, 1))[0]
        await c.write_register(4, 1, device_id=100)
        assert (await ir(c, 100, 1, 1))[0] != seq
        assert error_code(await c.read_coils(0, count=1, device_id=100)) == 1
        ths = await ir(c, 110, 0, 5)
        assert 15 < ths[2] / 10 < 30
        assert 0 < ths[3] / 10 < 100
        assert ths[4] == 0
        # AUX: DI0 shows the mains, relays on coils, the refresh timeout in HR10
        assert (await c.read_discrete_inputs(0, count=4, device_id=120)).bits[:4] == [False] * 4
        assert (await ir(c, 120, 2, 1)) == [0]
        sim.control('event {"do": "mains_return"}')
        sim.control('event {"do": "aux_input", "input": 2, "value": true}')
        assert (await ir(c, 120, 2, 1)) == [0b101]
        assert not (await c.write_coil(1, True, device_id=120)).isError()
        assert (await c.read_coils(0, count=2, device_id=120)).bits[:2] == [False, True]
        assert not (await c.write_coils(0, [True, False], device_id=120)).isError()
        assert (await c.read_coils(0, count=2, device_id=120)).bits[:2] == [True, False]
        assert error_code(await c.read_coils(1, count=2, device_id=120)) == 2
        assert error_code(await c.read_discrete_inputs(0, count=5, device_id=120)) == 2
        assert error_code(await c.write_register(10, 3601, device_id=120)) == 3
        await c.write_register(10, 2, device_id=120)
        assert (await hr(c, 120, 6, 5)) == [0, 120, 1, 0, 2]
        await asyncio.sleep(0.4)  # 4 s simulated without a refresh: relay 0 falls back
        assert (await c.read_coils(0, count=2, device_id=120)).bits[:2] == [False, False]


async def test_line_faults_and_dead_units_from_the_command_line(simulate):
    sim = simulate(
        "--listen", "tcp://127.0.0.1:0", "--units", "3", "--dead-unit", "2", "--crc-error-rate", "1"
    )
    async with rtu(sim) as c:
        for unit in (1, 2):
            with pytest.raises(ModbusIOException):
                await c.read_input_registers(0, count=10, device_id=unit)
    stats = sim.control("stats")["stats"]
    assert stats["corrupted"] == 1
    assert stats["unanswered"] == 1
    sim.control('event {"do": "bus_faults", "crc_error_rate": 0}')
    async with rtu(sim) as c:
        assert (await ir(c, 1, 100, 1)) == [20]
    # the control channel answers one JSON line per command, also for mistakes
    assert json.dumps(sim.control("devices")["devices"][1]["silent"]) == "true"
