"""Register-level emulation of the bus devices: what every device of the profile shares.

A device answers register reads and writes exactly as the datasheet says (STATUS/SEQ,
MEASURE, RI_MEASURE, bypass with watchdog, learn mode, reboot, factory reset, calibration,
exception codes). It is lazy: its state catches up with simulated time when it is accessed.
The block monitors are in ``blockmonitor.py``, the sensors and the AUX module in ``sensors.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from plugins.simulator import models as m

if TYPE_CHECKING:
    from plugins.simulator.physics import Plant


class DeviceException(Exception):
    """A Modbus exception answer (01 illegal function, 02 address, 03 value, 06 busy)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exception {code:02d}")
        self.code = code


class Host:
    """What a device needs from the simulated site (the World implements it)."""

    plant: Plant

    def ambient_c(self) -> float:
        raise NotImplementedError

    def humidity_pct(self) -> float:
        raise NotImplementedError

    def aux_inputs(self) -> list[bool]:
        raise NotImplementedError

    def bypass_changed(self, device: Device) -> None:
        """The device's applied bypass changed: keep its watchdog checked while time runs."""


class Device:
    """What every device on the bus has: identity, STATUS/SEQ, the button, HR 6–9."""

    model_code: ClassVar[int] = 0
    channels_register: ClassVar[int] = 1
    functions: ClassVar[frozenset[int]] = frozenset({3, 4, 6, 16})
    #: holding registers that exist (reading others answers exception 02)
    holding_map: ClassVar[frozenset[int]] = frozenset({6, 7, 8, 9})
    input_last: ClassVar[int] = 1  # last register of the measurement block (0..input_last)

    def __init__(self, host: Host, address: int, serial: int, *, seed: int = 0, now: float = 0.0) -> None:
        self.host = host
        self.address = address
        self.serial = serial
        self.rng = np.random.default_rng([seed, serial])
        self.baud_code = m.DEFAULT_BAUD_CODE  # in force
        self.baud_setting = m.DEFAULT_BAUD_CODE  # HR8, takes effect at the next reboot
        self.learn_until = -np.inf
        self.identify_until = -np.inf
        self.boot_until = -np.inf
        self.silent = False  # a dead device (scenario "unit_silent")
        self.seq = 0
        self.last_sample_t = now
        self.status_sticky = 0  # bits that clear when STATUS is read

    # ------------------------------------------------------------------ presence
    def answers_at(self, unit_id: int, now: float) -> bool:
        """True when this device takes a request for ``unit_id`` (never for another id)."""
        if self.silent or now < self.boot_until:
            return False
        if unit_id == self.address:
            return True
        return unit_id == m.UNADDRESSED_ID and self.in_learn_mode(now)

    def hears_broadcast(self, now: float) -> bool:
        return not self.silent and now >= self.boot_until

    def in_learn_mode(self, now: float) -> bool:
        return now < self.learn_until

    @property
    def baud(self) -> int:
        return m.BAUD_RATES[self.baud_code]

    def press_button(self, now: float, hold_s: float = 1.0) -> None:
        """The address button: 1 s → learn mode for 60 s; 10–15 s → factory reset."""
        if hold_s >= m.FACTORY_RESET_HOLD_S:
            self.factory_reset(now)
        elif hold_s >= 1.0:
            self.learn_until = now + m.LEARN_MODE_S

    def reboot(self, now: float) -> None:
        """Forget SEQ (and Ri on block monitors), keep the settings, silent while booting."""
        self.boot_until = now + m.BOOT_TIME_S
        self.baud_code = self.baud_setting
        self.seq = 0
        self.status_sticky = 0
        self.learn_until = -np.inf
        self.last_sample_t = now + m.BOOT_TIME_S

    def factory_reset(self, now: float) -> None:
        self.address = m.UNADDRESSED_ID
        self.baud_setting = m.DEFAULT_BAUD_CODE
        self.reboot(now)

    # ------------------------------------------------------------------ registers
    def status_bits(self, now: float) -> int:
        bits = 1  # ready
        if self.in_learn_mode(now):
            bits |= 1 << 1
        return bits | self.status_sticky

    def update(self, now: float) -> None:
        """Catch up with simulated time (periodic sampling, timers)."""

    def input_registers(self, now: float) -> dict[int, int]:
        """Every input register and its value now."""
        regs = {0: self.status_bits(now), 1: self.seq & 0xFFFF}
        regs.update(self.identity_registers())
        return regs

    def identity_registers(self) -> dict[int, int]:
        return {
            100: self.model_code,
            101: m.HW_REV,
            102: m.FIRMWARE,
            103: (self.serial >> 16) & 0xFFFF,
            104: self.serial & 0xFFFF,
            105: self.channels_register,
        }

    def holding_registers(self, now: float) -> dict[int, int]:
        return {
            6: int(np.ceil(max(0.0, self.identify_until - now))),
            7: self.address,
            8: self.baud_setting,
            9: 0,
        }

    def read(self, kind: str, address: int, count: int, now: float) -> list[int]:
        """Registers ``address..address+count-1`` of ``kind`` (``"input"``/``"holding"``)."""
        self.update(now)
        regs = self.input_registers(now) if kind == "input" else self.holding_registers(now)
        wanted = range(address, address + count)
        if any(a not in regs for a in wanted):
            raise DeviceException(m.ILLEGAL_ADDRESS)
        if kind == "input" and address == 0:
            self.status_sticky = 0  # STATUS bit 6 clears on read
        return [regs[a] for a in wanted]

    def write(self, address: int, values: list[int], now: float, *, broadcast: bool = False) -> None:
        """Write holding registers; every value is checked before any is applied."""
        self.update(now)
        wanted = range(address, address + len(values))
        if any(a not in self.holding_map for a in wanted):
            raise DeviceException(m.ILLEGAL_ADDRESS)
        if broadcast and not self.broadcast_allowed(address, values):
            return  # every other broadcast write is ignored
        for a, v in zip(wanted, values, strict=True):
            self.check_value(a, v, now)
        for a, v in zip(wanted, values, strict=True):
            self.apply(a, v, now, broadcast=broadcast)

    def broadcast_allowed(self, address: int, values: list[int]) -> bool:
        """MEASURE (4), RI_MEASURE (5) and BYPASS_CMD (0–2) with 0 only."""
        span = range(address, address + len(values))
        if all(a in (0, 1, 2) for a in span) and not any(values):
            return True
        return len(values) == 1 and address in (4, 5)

    def check_value(self, address: int, value: int, now: float) -> None:
        """Raise exception 03 (or 06) for a value this register refuses."""
        ok = {
            6: value <= 600,
            7: 1 <= value <= 246 and self.in_learn_mode(now),
            8: value <= 4,
            9: value in (m.REBOOT_COMMAND, m.FACTORY_RESET_COMMAND),
        }.get(address, True)
        if not ok:
            raise DeviceException(m.ILLEGAL_VALUE)

    def apply(self, address: int, value: int, now: float, *, broadcast: bool = False) -> None:
        if address == 6:
            self.identify_until = now + value
        elif address == 7:
            # answered from the old ID by the bus, then in force; ends learn mode
            self.pending_address = value
            self.learn_until = -np.inf
        elif address == 8:
            self.baud_setting = value
        elif address == 9:
            self.pending_command = value

    def after_reply(self, now: float) -> None:
        """Changes that take effect once the reply has left (new address, reboot)."""
        new_address = getattr(self, "pending_address", None)
        if new_address is not None:
            self.address = new_address
            self.pending_address = None
        command = getattr(self, "pending_command", None)
        if command is not None:
            self.pending_command = None
            if command == m.REBOOT_COMMAND:
                self.reboot(now)
            elif command == m.FACTORY_RESET_COMMAND:
                self.factory_reset(now)

    # bit access: only the AUX module has coils and discrete inputs
    def read_bits(self, kind: str, address: int, count: int, now: float) -> list[bool]:
        raise DeviceException(m.ILLEGAL_FUNCTION)

    def write_bits(self, address: int, values: list[bool], now: float) -> None:
        raise DeviceException(m.ILLEGAL_FUNCTION)

    def describe(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "serial": self.serial,
            "model": self.model_code,
            "silent": self.silent,
        }
