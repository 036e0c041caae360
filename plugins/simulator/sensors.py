"""Register-level emulation of the sensors and I/O on the bus: CS (current), THS (ambient), AUX (I/O)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from plugins.simulator import models as m
from plugins.simulator.devices import Device, DeviceException, Host


class SampledSensor(Device):
    """A sensor that samples every 1 s and on MEASURE (HR4, broadcast too); SEQ counts samples."""

    holding_map = frozenset({4, 6, 7, 8, 9})

    def __init__(self, host: Host, address: int, serial: int, *, seed: int = 0, now: float = 0.0) -> None:
        super().__init__(host, address, serial, seed=seed, now=now)
        self.fault = False  # scenario "sensor_fault"
        self.sample(now)

    def update(self, now: float) -> None:
        if now - self.last_sample_t >= m.SENSOR_SAMPLE_PERIOD_S and now >= self.boot_until:
            missed = int((now - self.last_sample_t) // m.SENSOR_SAMPLE_PERIOD_S)
            self.seq += missed - 1
            self.sample(self.last_sample_t + missed * m.SENSOR_SAMPLE_PERIOD_S)

    def sample(self, t: float) -> None:
        self.take_sample()
        self.seq = (self.seq + 1) & 0xFFFF
        self.last_sample_t = t

    def take_sample(self) -> None:
        raise NotImplementedError

    def holding_registers(self, now: float) -> dict[int, int]:
        return {**super().holding_registers(now), 4: 0}

    def broadcast_allowed(self, address: int, values: list[int]) -> bool:
        return address == 4 and values == [1]

    def check_value(self, address: int, value: int, now: float) -> None:
        if address == 4:
            if value != 1:
                raise DeviceException(m.ILLEGAL_VALUE)
            return
        super().check_value(address, value, now)

    def apply(self, address: int, value: int, now: float, *, broadcast: bool = False) -> None:
        if address == 4:
            self.sample(now)
        else:
            super().apply(address, value, now, broadcast=broadcast)


class CurrentSensor(SampledSensor):
    """CS: string current (int32 mA, + = charging), ripple RMS, flags, rated range."""

    model_code = m.SENSOR_CODES["CS"]
    input_last = 6

    def __init__(
        self,
        host: Host,
        address: int,
        serial: int,
        string: int,
        *,
        range_a: int = 100,
        seed: int = 0,
        now: float = 0.0,
    ) -> None:
        self.string = string
        self.range_a = range_a
        self.current_ma = 0
        self.ripple_ma = 0
        self.flags = 0
        super().__init__(host, address, serial, seed=seed, now=now)
        self.offset_a = 0.02 * float(self.rng.standard_normal())

    def take_sample(self) -> None:
        plant = self.host.plant
        i = float(plant.string_current_a[self.string])
        ripple = float(plant.ripple_a()[self.string])
        # the sensor sees the DC value plus whatever part of the ripple its 1 s average leaves
        measured = (
            i * 1.002 + getattr(self, "offset_a", 0.0) + 0.01 * ripple * float(self.rng.standard_normal())
        )
        limit = self.range_a * 1000
        ma = round(measured * 1000)
        self.flags = 0
        if abs(ma) > limit:
            ma, self.flags = int(np.sign(ma)) * limit, self.flags | 1
        if self.fault:
            ma, self.flags = 0, self.flags | 2
        self.current_ma = ma
        self.ripple_ma = max(0, round(ripple * 1000 * (1 + 0.03 * float(self.rng.standard_normal()))))

    def input_registers(self, now: float) -> dict[int, int]:
        regs = super().input_registers(now)
        word = self.current_ma & 0xFFFFFFFF
        regs.update(
            {2: word >> 16, 3: word & 0xFFFF, 4: min(self.ripple_ma, 0xFFFF), 5: self.flags, 6: self.range_a}
        )
        return regs


class AmbientSensor(SampledSensor):
    """THS: room temperature (0.1 °C) and relative humidity (0.1 %)."""

    model_code = m.SENSOR_CODES["THS"]
    input_last = 4

    def __init__(self, host: Host, address: int, serial: int, *, seed: int = 0, now: float = 0.0) -> None:
        self.temp_raw = 0
        self.rh_raw = 0
        super().__init__(host, address, serial, seed=seed, now=now)

    def take_sample(self) -> None:
        t = self.host.ambient_c() + 0.05 * float(self.rng.standard_normal())
        rh = self.host.humidity_pct() + 0.3 * float(self.rng.standard_normal())
        self.temp_raw = m.TEMP_FAULT_RAW if self.fault else m.u16(round(np.clip(t, -35, 85) * 10))
        self.rh_raw = round(np.clip(rh, 0.0, 100.0) * 10)

    def input_registers(self, now: float) -> dict[int, int]:
        regs = super().input_registers(now)
        regs.update({2: self.temp_raw, 3: self.rh_raw, 4: int(self.fault)})
        return regs


class AuxModule(Device):
    """AUX: 2 relay coils (with an optional refresh timeout, HR10), 4 digital inputs."""

    model_code = m.SENSOR_CODES["AUX"]
    channels_register = 0
    functions: ClassVar[frozenset[int]] = frozenset({1, 2, 3, 4, 5, 6, 15, 16})
    holding_map = frozenset({6, 7, 8, 9, 10})
    input_last = 2

    def __init__(self, host: Host, address: int, serial: int, *, seed: int = 0, now: float = 0.0) -> None:
        super().__init__(host, address, serial, seed=seed, now=now)
        self.relays = [False, False]
        self.relay_written_at = [-np.inf, -np.inf]
        self.relay_timeout_s = 0

    def update(self, now: float) -> None:
        if now - self.last_sample_t >= m.SENSOR_SAMPLE_PERIOD_S:
            missed = int((now - self.last_sample_t) // m.SENSOR_SAMPLE_PERIOD_S)
            self.seq = (self.seq + missed) & 0xFFFF
            self.last_sample_t += missed * m.SENSOR_SAMPLE_PERIOD_S
        if self.relay_timeout_s:
            for k in range(2):
                if self.relays[k] and now - self.relay_written_at[k] >= self.relay_timeout_s:
                    self.relays[k] = False

    def input_registers(self, now: float) -> dict[int, int]:
        regs = super().input_registers(now)
        regs[2] = sum(int(b) << k for k, b in enumerate(self.host.aux_inputs()[:4]))
        return regs

    def holding_registers(self, now: float) -> dict[int, int]:
        return {**super().holding_registers(now), 10: self.relay_timeout_s}

    def check_value(self, address: int, value: int, now: float) -> None:
        if address == 10:
            if value > 3600:
                raise DeviceException(m.ILLEGAL_VALUE)
            return
        super().check_value(address, value, now)

    def apply(self, address: int, value: int, now: float, *, broadcast: bool = False) -> None:
        if address == 10:
            self.relay_timeout_s = value
        else:
            super().apply(address, value, now, broadcast=broadcast)

    def read_bits(self, kind: str, address: int, count: int, now: float) -> list[bool]:
        self.update(now)
        bits = self.relays if kind == "coil" else self.host.aux_inputs()[:4]
        if address + count > len(bits):
            raise DeviceException(m.ILLEGAL_ADDRESS)
        return list(bits[address : address + count])

    def write_bits(self, address: int, values: list[bool], now: float) -> None:
        self.update(now)
        if address + len(values) > 2:
            raise DeviceException(m.ILLEGAL_ADDRESS)
        for k, v in enumerate(values, start=address):
            self.relays[k] = bool(v)
            self.relay_written_at[k] = now
