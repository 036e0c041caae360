"""The block monitors (C20 … C40ex3): measurement, Ri pulse, bypass duty with its watchdog.

Each channel measures one battery of the simulated plant; the registers are encoded with
the model's LSBs and clipped to its ranges with the range flags set, as the hardware does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugins.simulator import models as m
from plugins.simulator.devices import Device, DeviceException, Host


class BlockMonitor(Device):
    """A battery monitor with 1 or 3 channels, each bound to one simulated unit (or none)."""

    holding_map = frozenset(range(13))

    def __init__(
        self,
        host: Host,
        model: m.BlockModel,
        address: int,
        serial: int,
        units: list[int | None],
        *,
        seed: int = 0,
        now: float = 0.0,
    ) -> None:
        super().__init__(host, address, serial, seed=seed, now=now)
        self.model = model
        self.model_code = model.code  # type: ignore[misc]
        self.channels_register = model.channels  # type: ignore[misc]
        n = model.channels
        self.units = (units + [None] * n)[:n]
        # the hardware's own errors: a fixed gain error and temperature offset per channel
        self.gain = 1.0 + 0.001 * self.rng.standard_normal(n)
        self.t_offset = 0.3 * self.rng.standard_normal(n)
        self.bypass_cmd = [0] * n
        self.bypass_expires = [np.inf] * n
        self.watchdog_s = m.DEFAULT_WATCHDOG_S
        self.v_cal = [0] * n
        self.fuse_open = [False] * n
        self.temp_sensor_fault = [False] * n
        self.calibration_fault = False
        self.measure_done_at = -np.inf  # a running MEASURE completes then
        self.ri_done_at = -np.inf
        self.v_raw = [0] * n
        self.t_raw = [0] * n
        self.ibyp_ma = [0] * n
        self.cflags = [0] * n  # latched bits of the last measurement (0–3, 6)
        self.ri_raw = [m.RI_NOT_MEASURED] * n
        self.ri_time = -np.inf
        self._take_measurement(now)

    # ------------------------------------------------------------------ time
    def update(self, now: float) -> None:
        self.check_watchdog(now)
        if self.measure_done_at <= now and self.measure_done_at > -np.inf:
            self.measure_done_at = -np.inf
            self._take_measurement(now)
        if self.ri_done_at <= now and self.ri_done_at > -np.inf:
            self.ri_done_at = -np.inf
            self._take_ri()
        # it measures on its own every 10 s when nobody asks
        if now - self.last_sample_t >= m.AUTO_MEASURE_PERIOD_S and now >= self.boot_until:
            missed = int((now - self.last_sample_t) // m.AUTO_MEASURE_PERIOD_S)
            self.seq += missed - 1
            self._take_measurement(self.last_sample_t + missed * m.AUTO_MEASURE_PERIOD_S)

    def check_watchdog(self, now: float) -> None:
        """Expire bypass duties whose BYPASS_CMD was not refreshed in time."""
        for c in range(self.model.channels):
            if self.bypass_cmd[c] and now >= self.bypass_expires[c]:
                self.bypass_cmd[c] = 0
                self.bypass_expires[c] = np.inf
                self.status_sticky |= 1 << 6
                self._apply_bypass()

    def bypass_active(self) -> bool:
        return any(self.bypass_cmd)

    def derated(self) -> bool:
        """Internal over-temperature: the bypass resistor heats the monitor above 70 °C."""
        hottest = 0.0
        for c, u in enumerate(self.units):
            t = self.host.plant.temp_c[u] if u is not None else self.host.ambient_c()
            hottest = max(hottest, t + 30.0 * self.bypass_cmd[c] / 1000.0)
        return hottest > 70.0

    def applied_duty(self, c: int) -> int:
        cmd = self.bypass_cmd[c]
        return cmd // 2 if cmd and self.derated() else cmd

    def _apply_bypass(self) -> None:
        plant = self.host.plant
        for c, u in enumerate(self.units):
            if u is not None:
                plant.bypass_a[u] = self.applied_duty(c) / 1000.0 * self.model.bypass_max_a
        self.host.bypass_changed(self)

    def _take_measurement(self, t: float) -> None:
        plant = self.host.plant
        model = self.model
        for c, u in enumerate(self.units):
            v_true = float(plant.voltage_v[u]) if u is not None else 0.0
            t_true = float(plant.temp_c[u]) if u is not None else self.host.ambient_c()
            flags = 0
            v = v_true * self.gain[c] + v_true * 0.0003 * self.rng.standard_normal()
            code = round(v / model.v_lsb) + self.v_cal[c]
            lo, hi = round(model.v_min / model.v_lsb), round(model.v_max / model.v_lsb)
            if self.fuse_open[c]:
                code, flags = 0, flags | 1 << 6
            elif code > hi:
                code, flags = hi, flags | 1
            elif code < lo:
                code, flags = lo, flags | 1 << 1
            temp = t_true + self.t_offset[c] + 0.05 * self.rng.standard_normal()
            if self.temp_sensor_fault[c]:
                t_code, flags = m.TEMP_FAULT_RAW, flags | 1 << 2
            else:
                t_code = m.u16(round(np.clip(temp, m.TEMP_MIN_C, m.TEMP_MAX_C) * 10))
            self.v_raw[c] = code
            self.t_raw[c] = t_code
            self.ibyp_ma[c] = round(self.applied_duty(c) / 1000.0 * model.bypass_max_a * 1000)
            self.cflags[c] = (self.cflags[c] & (1 << 3)) | flags
        self.seq = (self.seq + 1) & 0xFFFF
        self.last_sample_t = t

    def _take_ri(self) -> None:
        plant = self.host.plant
        model = self.model
        r_all = plant.ri_ohm()
        for c, u in enumerate(self.units):
            if u is None:
                continue
            r = float(r_all[u]) * (1.0 + 0.005 * self.rng.standard_normal())
            code = round(r / model.ri_lsb_ohm)
            lo, hi = round(model.ri_min_ohm / model.ri_lsb_ohm), round(model.ri_max_ohm / model.ri_lsb_ohm)
            out_of_range = not lo <= code <= hi
            self.ri_raw[c] = int(np.clip(code, lo, hi))
            self.cflags[c] = (self.cflags[c] & ~(1 << 3)) | (int(out_of_range) << 3)
        self.ri_time = self.ri_done_at if self.ri_done_at > -np.inf else self.last_sample_t

    def start_measure(self, now: float) -> None:
        if self.measure_done_at == -np.inf:
            self.measure_done_at = now + m.MEASURE_TIME_S

    # ------------------------------------------------------------------ registers
    def status_bits(self, now: float) -> int:
        bits = super().status_bits(now)
        if self.measure_done_at > now:
            bits |= 1 << 2
        if self.ri_done_at > now:
            bits |= 1 << 3
        if self.derated():
            bits |= 1 << 4
        if self.calibration_fault:
            bits |= 1 << 5
        return bits

    def input_registers(self, now: float) -> dict[int, int]:
        regs = super().input_registers(now)
        derated = self.derated()
        ri_age = 65535 if self.ri_time == -np.inf else int(min(65535, max(0.0, now - self.ri_time)))
        for c in range(self.model.channels):
            base = 2 + 8 * c
            live = (int(self.bypass_cmd[c] > 0) << 4) | (int(derated and self.bypass_cmd[c] > 0) << 5)
            regs.update(
                {
                    base: self.v_raw[c],
                    base + 1: self.t_raw[c],
                    base + 2: self.ri_raw[c],
                    base + 3: ri_age if self.ri_raw[c] != m.RI_NOT_MEASURED else 65535,
                    base + 4: self.applied_duty(c),
                    base + 5: self.ibyp_ma[c],
                    base + 6: self.cflags[c] | live,
                    base + 7: 0,
                }
            )
        return regs

    def holding_registers(self, now: float) -> dict[int, int]:
        regs = super().holding_registers(now)
        regs.update(
            {
                0: self.bypass_cmd[0],
                1: self.bypass_cmd[1] if self.model.channels > 1 else 0,
                2: self.bypass_cmd[2] if self.model.channels > 1 else 0,
                3: self.watchdog_s,
                4: int(self.measure_done_at > now),
                5: int(self.ri_done_at > now),
                10: m.u16(self.v_cal[0]),
                11: m.u16(self.v_cal[1]) if self.model.channels > 1 else 0,
                12: m.u16(self.v_cal[2]) if self.model.channels > 1 else 0,
            }
        )
        return regs

    def check_value(self, address: int, value: int, now: float) -> None:
        one_channel = self.model.channels == 1
        if address in (0, 1, 2):
            ok = value == 0 if one_channel and address > 0 else value <= 1000
        elif address == 3:
            ok = value == 0 or 5 <= value <= 600
        elif address == 4:
            ok = value == 1
        elif address == 5:
            ok = value == 1
            if ok and (self.ri_done_at > now or self.bypass_active()):
                raise DeviceException(m.DEVICE_BUSY)
        elif address in (10, 11, 12):
            ok = value == 0 if one_channel and address > 10 else True
        else:
            super().check_value(address, value, now)
            return
        if not ok:
            raise DeviceException(m.ILLEGAL_VALUE)

    def write(self, address: int, values: list[int], now: float, *, broadcast: bool = False) -> None:
        if broadcast and address == 5 and (self.ri_done_at > now or self.bypass_active()):
            return  # a busy monitor ignores a broadcast RI_MEASURE (no one to tell)
        super().write(address, values, now, broadcast=broadcast)

    def apply(self, address: int, value: int, now: float, *, broadcast: bool = False) -> None:
        if address in (0, 1, 2):
            c = address
            if c < self.model.channels:
                self.bypass_cmd[c] = value
                self.bypass_expires[c] = now + self.watchdog_s if value and self.watchdog_s else np.inf
                self._apply_bypass()
        elif address == 3:
            self.watchdog_s = value
        elif address == 4:
            self.start_measure(now)
        elif address == 5:
            self.ri_done_at = now + m.RI_MEASURE_TIME_S
        elif address in (10, 11, 12):
            self.v_cal[address - 10] = m.s16(value)
        else:
            super().apply(address, value, now, broadcast=broadcast)

    def reboot(self, now: float) -> None:
        super().reboot(now)
        n = self.model.channels
        self.ri_raw = [m.RI_NOT_MEASURED] * n
        self.ri_time = -np.inf
        self.cflags = [0] * n
        self.measure_done_at = self.ri_done_at = -np.inf
        self.bypass_cmd = [0] * n
        self.bypass_expires = [np.inf] * n
        self._apply_bypass()

    def factory_reset(self, now: float) -> None:
        self.watchdog_s = m.DEFAULT_WATCHDOG_S
        self.v_cal = [0] * self.model.channels
        super().factory_reset(now)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": self.model.name, "units": self.units}
