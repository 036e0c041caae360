"""Drivers of the battery block monitors C20 … C40ex3 (monitor-bus profile v1, "Block monitors").

One table row per model: ranges, LSBs and bypass current; the register layout is common.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gateway.core.bus.driver import (
    READ_INPUT,
    WRITE_REGISTER,
    WRITE_REGISTERS,
    DecodeError,
    PolledDriver,
    ReadBlock,
    Reading,
    WriteOp,
    status_flags,
)
from gateway.core.model import ChannelReading, Quality

#: CFLAGS (IR 8 + 8c) bit → flag name
CHANNEL_FLAGS = (
    "voltage_over_range",
    "voltage_under_range",
    "temperature_sensor_fault",
    "ri_out_of_range",
    "bypass_active",
    "bypass_derated",
    "fuse_open",
)
RI_NOT_MEASURED = 0xFFFF
T_SENSOR_FAULT = -32768
REGS_PER_CHANNEL = 8
FIRST_CHANNEL_REG = 2
MAX_DUTY_RAW = 1000


def _int16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


class BlockMonitorDriver(PolledDriver):
    """A battery monitor: voltage, temperature, Ri and bypass per channel."""

    kind: ClassVar[str] = "block"
    has_ri: ClassVar[bool] = True
    has_bypass: ClassVar[bool] = True
    voltage_range_v: ClassVar[tuple[float, float]]
    voltage_lsb_v: ClassVar[float]
    ri_range_ohm: ClassVar[tuple[float, float]]
    ri_lsb_ohm: ClassVar[float]
    bypass_current_a: ClassVar[float]

    @property
    def block_count(self) -> int:
        """Registers 0..9 for one channel, 0..25 for three."""
        return FIRST_CHANNEL_REG + REGS_PER_CHANNEL * self.channels

    def read_plan(self) -> list[ReadBlock]:
        return [ReadBlock(READ_INPUT, 0, self.block_count)]

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        regs = blocks[0] if blocks else ()
        if len(regs) < self.block_count:
            raise DecodeError(f"{self.model}: {len(regs)} registers, expected {self.block_count}")
        status = status_flags(regs[0])
        seq = regs[1]
        return [self._channel(regs, c, status, seq, bus, address, time) for c in range(self.channels)]

    def _channel(
        self,
        regs: Sequence[int],
        c: int,
        status: frozenset[str],
        seq: int,
        bus: str,
        address: int,
        time: float,
    ) -> ChannelReading:
        base = FIRST_CHANNEL_REG + REGS_PER_CHANNEL * c
        v_raw, t_raw, ri_raw, age_raw, duty_raw, ibyp_raw, cflags = regs[base : base + 7]
        flags = {name for bit, name in enumerate(CHANNEL_FLAGS) if cflags >> bit & 1} | status
        # A blown measurement-lead fuse reads 0 V: that is no voltage, not a flat battery.
        voltage = None if "fuse_open" in flags else round(v_raw * self.voltage_lsb_v, 6)
        t = _int16(t_raw)
        temperature = None if t == T_SENSOR_FAULT or "temperature_sensor_fault" in flags else t / 10.0
        ri = None if ri_raw == RI_NOT_MEASURED else round(ri_raw * self.ri_lsb_ohm, 9)
        ri_age = None if ri is None else float(age_raw)
        if duty_raw > MAX_DUTY_RAW:
            raise DecodeError(f"{self.model}: channel {c} duty {duty_raw} > {MAX_DUTY_RAW}")
        out_of_range = flags & {"voltage_over_range", "voltage_under_range"}
        return ChannelReading(
            bus=bus,
            address=address,
            channel=c,
            time=time,
            voltage_v=voltage,
            temperature_c=temperature,
            ri_ohm=ri,
            ri_age_s=ri_age,
            duty=duty_raw / MAX_DUTY_RAW,
            bypass_current_a=ibyp_raw / 1000.0,
            flags=frozenset(flags),
            quality=Quality.OUT_OF_RANGE if out_of_range else Quality.GOOD,
            seq=seq,
        )

    def encode_bypass(self, duties: Sequence[float]) -> WriteOp:
        raw = [round(max(0.0, min(1.0, d)) * MAX_DUTY_RAW) for d in list(duties)[: self.channels]]
        raw += [0] * (self.channels - len(raw))
        if self.channels == 1:
            return WriteOp(WRITE_REGISTER, 0, (raw[0],))
        return WriteOp(WRITE_REGISTERS, 0, tuple(raw))

    def encode_watchdog(self, seconds: int) -> WriteOp:
        return WriteOp(WRITE_REGISTER, 3, (max(5, min(600, int(seconds))),))

    def encode_ri_measure(self) -> WriteOp:
        return WriteOp(WRITE_REGISTER, 5, (1,))


def _model(
    name: str,
    code: int,
    channels: int,
    v_range: tuple[float, float],
    v_lsb: float,
    ri_range_mohm: tuple[float, float],
    ri_lsb_ohm: float,
    bypass_a: float,
    summary: str,
) -> type[BlockMonitorDriver]:
    attrs = {
        "model": name,
        "code": code,
        "channels": channels,
        "voltage_range_v": v_range,
        "voltage_lsb_v": v_lsb,
        "ri_range_ohm": (ri_range_mohm[0] / 1000, ri_range_mohm[1] / 1000),
        "ri_lsb_ohm": ri_lsb_ohm,
        "bypass_current_a": bypass_a,
        "summary": summary,
        "__doc__": f"{name}: {summary}",
        "__module__": __name__,
    }
    return type(f"{name}Driver", (BlockMonitorDriver,), attrs)


# The datasheet's model table, row for row.
C20Driver = _model("C20", 20, 1, (9.7, 17.0), 0.001, (0.5, 60), 10e-6, 0.150, "12 V block monitor")
C23Driver = _model("C23", 23, 1, (9.7, 21.0), 0.001, (0.5, 60), 10e-6, 0.120, "16 V block monitor")
C30Driver = _model("C30", 30, 1, (4.8, 8.0), 0.001, (0.5, 60), 10e-6, 0.300, "6 V block monitor")
C40Driver = _model("C40", 40, 1, (1.0, 3.2), 0.0001, (0.02, 6), 1e-6, 0.900, "2 V cell monitor")
C41Driver = _model(
    "C41", 41, 1, (2.4, 5.0), 0.0001, (0.5, 30), 10e-6, 0.300, "Li cell monitor (LFP, LTO, NMC)"
)
C20ex3Driver = _model("C20ex3", 120, 3, (9.7, 17.0), 0.001, (0.5, 60), 10e-6, 0.150, "ATEX, 3 × C20")
C30ex3Driver = _model("C30ex3", 130, 3, (4.8, 8.0), 0.001, (0.5, 60), 10e-6, 0.300, "ATEX, 3 × C30")
C40ex3Driver = _model("C40ex3", 140, 3, (1.0, 3.2), 0.0001, (0.02, 6), 1e-6, 0.900, "ATEX, 3 × C40")

BLOCK_DRIVERS: tuple[type[BlockMonitorDriver], ...] = (
    C20Driver,
    C23Driver,
    C30Driver,
    C40Driver,
    C41Driver,
    C20ex3Driver,
    C30ex3Driver,
    C40ex3Driver,
)
