"""Drivers of the devices on the bus that are not block monitors: CS current, THS ambient, AUX I/O.

Register layouts from the monitor-bus profile v1, "Sensors and I/O on the bus".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.core.bus.driver import (
    READ_COILS,
    READ_INPUT,
    WRITE_COIL,
    DecodeError,
    PolledDriver,
    ReadBlock,
    Reading,
    WriteOp,
    status_flags,
)
from gateway.core.model import Quality, SensorReading

CS_RANGES_A = (100, 200, 500, 1000)


def _int16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


def _int32(hi: int, lo: int) -> int:
    v = (hi << 16) | lo
    return v - 0x1_0000_0000 if v & 0x8000_0000 else v


def _need(regs: Sequence[int], n: int, model: str) -> None:
    if len(regs) < n:
        raise DecodeError(f"{model}: {len(regs)} registers, expected {n}")


class CSDriver(PolledDriver):
    """CS string current sensor: DC current (positive = charging) and AC ripple."""

    model = "CS"
    code = 200
    kind = "current"
    summary = "string current sensor"

    def read_plan(self) -> list[ReadBlock]:
        return [ReadBlock(READ_INPUT, 0, 7)]

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        regs = blocks[0]
        _need(regs, 7, self.model)
        flags = set(status_flags(regs[0]))
        if regs[5] & 1:
            flags.add("over_range")
        if regs[5] & 2:
            flags.add("sensor_fault")
        values: dict[str, Any] = {"range_a": float(regs[6])}
        if "sensor_fault" not in flags:
            values["current_a"] = _int32(regs[2], regs[3]) / 1000.0
            values["ripple_a"] = regs[4] / 1000.0
        quality = Quality.OUT_OF_RANGE if "over_range" in flags else Quality.GOOD
        return [SensorReading(bus, address, self.kind, time, values, frozenset(flags), quality)]


class THSDriver(PolledDriver):
    """THS ambient temperature and relative humidity sensor."""

    model = "THS"
    code = 210
    kind = "ambient"
    summary = "ambient temperature/humidity sensor"

    def read_plan(self) -> list[ReadBlock]:
        return [ReadBlock(READ_INPUT, 0, 5)]

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        regs = blocks[0]
        _need(regs, 5, self.model)
        flags = set(status_flags(regs[0]))
        values: dict[str, Any] = {}
        if regs[4] & 1:
            flags.add("sensor_fault")
        else:
            values = {"temperature_c": _int16(regs[2]) / 10.0, "humidity_pct": regs[3] / 10.0}
        return [SensorReading(bus, address, self.kind, time, values, frozenset(flags))]


class AUXDriver(PolledDriver):
    """AUX I/O module: two relays (coils 0–1) and four digital inputs (IR 2 bitmap)."""

    model = "AUX"
    code = 220
    kind = "io"
    channels = 0
    relays = 2
    measures_on_broadcast = False
    summary = "I/O module, 2 relays and 4 digital inputs"

    def read_plan(self) -> list[ReadBlock]:
        return [ReadBlock(READ_INPUT, 0, 3), ReadBlock(READ_COILS, 0, 2)]

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        regs, coils = blocks[0], blocks[1]
        _need(regs, 3, self.model)
        if len(coils) < 2:
            raise DecodeError(f"AUX: {len(coils)} coils, expected 2")
        values = {
            "inputs": tuple(bool(regs[2] >> i & 1) for i in range(4)),
            "relays": (bool(coils[0]), bool(coils[1])),
        }
        return [SensorReading(bus, address, self.kind, time, values, status_flags(regs[0]))]

    def encode_relay(self, relay: int, on: bool) -> WriteOp:
        if not 0 <= relay < self.relays:
            raise ValueError(f"AUX has relays 0–{self.relays - 1}, not {relay}")
        return WriteOp(WRITE_COIL, relay, (1 if on else 0,))


SENSOR_DRIVERS: tuple[type[PolledDriver], ...] = (CSDriver, THSDriver, AUXDriver)
