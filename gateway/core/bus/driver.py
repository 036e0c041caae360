"""What the bus master asks of a monitor driver: reads to make, how to decode them, commands to encode.

Model drivers (``plugins/monitors``) and third-party ones subclass :class:`PolledDriver`; the
master knows nothing of a model beyond this contract and the monitor-bus profile's identity block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from gateway.core.components import MonitorDriver
from gateway.core.model import ChannelReading, Quality, SensorReading

Reading = ChannelReading | SensorReading

# Modbus function codes used on the bus
READ_COILS, READ_DISCRETE, READ_HOLDING, READ_INPUT = 1, 2, 3, 4
WRITE_COIL, WRITE_REGISTER, WRITE_COILS, WRITE_REGISTERS = 5, 6, 15, 16

#: the identity block of every device of the monitor-bus profile: MODEL, HW_REV, FW, SERIAL(2), CHANNELS
IDENTITY_ADDRESS, IDENTITY_COUNT = 100, 6
BROADCAST = 0
LEARN_ADDRESS = 247


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: function 1–4, first register or bit, how many."""

    function: int
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One write request: function 5/6/15/16, first register or coil, values (coils: 0/1)."""

    function: int
    address: int
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """The identity registers 100–105 of a device."""

    model_code: int
    hw_rev: int
    firmware: int  # major × 256 + minor
    serial: int
    channels: int

    @property
    def firmware_text(self) -> str:
        return f"{self.firmware >> 8}.{self.firmware & 0xFF}"

    @classmethod
    def from_registers(cls, regs: Sequence[int]) -> Identity:
        if len(regs) < IDENTITY_COUNT:
            raise DecodeError(f"identity block has {len(regs)} registers, expected {IDENTITY_COUNT}")
        return cls(regs[0], regs[1], regs[2], (regs[3] << 16) | regs[4], regs[5])


class DecodeError(ValueError):
    """A reply that cannot be what the driver asked for (wrong length, impossible value)."""


class PolledDriver(MonitorDriver):
    """A device on a polled Modbus line, as one instance per bound address.

    Class attributes describe the model; the instance may carry per-device options (the
    generic register-map driver reads its map from them).
    """

    #: True for devices of the monitor-bus profile (identity at 100–105, MEASURE, learn mode)
    has_identity: ClassVar[bool] = True
    #: samples on the broadcast MEASURE that starts every cycle
    measures_on_broadcast: ClassVar[bool] = True
    #: supports RI_MEASURE (HR5) and bypass (HR0–2)
    has_ri: ClassVar[bool] = False
    has_bypass: ClassVar[bool] = False
    relays: ClassVar[int] = 0

    def __init__(self, options: Mapping[str, Any] | None = None, base_dir: Path | None = None) -> None:
        self.options = dict(options or {})
        self.base_dir = base_dir or Path(".")

    #: real-time pause the master keeps between two requests to this device
    @property
    def request_pause_s(self) -> float:
        return 0.0

    def read_plan(self) -> list[ReadBlock]:
        """The reads of one poll, in order."""
        raise NotImplementedError

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        """Turn the replies to :meth:`read_plan` (same order) into canonical readings.

        Raises :class:`DecodeError` when the replies cannot be this model's.
        """
        raise NotImplementedError

    def unavailable(self, bus: str, address: int, time: float, quality: Quality) -> list[Reading]:
        """Readings without values, saying why (comm-lost, wrong identity)."""
        if self.kind == "block":
            return [
                ChannelReading(bus, address, c, time, None, None, None, None, 0.0, 0.0, quality=quality)
                for c in range(self.channels)
            ]
        return [SensorReading(bus, address, self.kind, time, {}, quality=quality)]

    # --- commands (None: the model has no such command)
    def encode_bypass(self, duties: Sequence[float]) -> WriteOp | None:
        return None

    def encode_watchdog(self, seconds: int) -> WriteOp | None:
        return None

    def encode_ri_measure(self) -> WriteOp | None:
        return None

    def encode_relay(self, relay: int, on: bool) -> WriteOp | None:
        return None

    def encode_relay_timeout(self, seconds: int) -> WriteOp | None:
        """Relay refresh timeout (profile: HR10 of the AUX module); None for devices without relays."""
        if not (self.has_identity and self.relays):
            return None
        return WriteOp(WRITE_REGISTER, 10, (max(0, min(3600, int(seconds))),))

    def encode_identify(self, seconds: int) -> WriteOp | None:
        return WriteOp(WRITE_REGISTER, 6, (max(0, min(600, int(seconds))),)) if self.has_identity else None

    @staticmethod
    def encode_measure() -> WriteOp:
        """MEASURE (HR4 = 1): sent to unit 0 it makes every monitor sample at once."""
        return WriteOp(WRITE_REGISTER, 4, (1,))

    @staticmethod
    def encode_address(new_address: int) -> WriteOp:
        """ADDRESS (HR7): accepted only in learn mode, answered from the old id."""
        return WriteOp(WRITE_REGISTER, 7, (new_address,))


def status_flags(status: int) -> frozenset[str]:
    """STATUS (IR0) bits of every profile device, as flag names."""
    names = (
        "ready",
        "learn_mode",
        "measuring",
        "ri_measuring",
        "internal_over_temperature",
        "calibration_fault",
        "watchdog_expired",
    )
    return frozenset(n for bit, n in enumerate(names) if status >> bit & 1 and n != "ready")
