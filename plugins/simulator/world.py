"""A simulated site ("world"): the batteries' physics, the room, and one bus of devices per line.

Time is the gateway clock's: the world steps its physics up to ``clock.now()`` whenever a
request arrives (and every step from a background task), applies scenario events on the
way, and checks the bypass watchdogs. Tests use its small API (``unit_state``,
``press_button``, ``apply``, ``monitor``) to drive it and to read the true values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel

from gateway.core.clock import Clock
from plugins.simulator import models as m
from plugins.simulator import scenario as sc
from plugins.simulator.blockmonitor import BlockMonitor
from plugins.simulator.bus import SimBus
from plugins.simulator.devices import Device, Host
from plugins.simulator.options import SimOptions
from plugins.simulator.physics import Plant, StringSetup
from plugins.simulator.sensors import AmbientSensor, AuxModule, CurrentSensor
from plugins.simulator.site import SiteSpec

RUNAWAY_SHORT_S_PER_V = 0.1  # soft-short conductance (S) at severity 1, doubling per 10 K


class World(Host):
    """One simulated site shared by every ``sim://NAME`` line of that NAME."""

    def __init__(
        self,
        site: SiteSpec,
        options: SimOptions,
        clock: Clock,
        *,
        name: str = "demo",
        scenario: sc.Scenario | None = None,
    ) -> None:
        self.name = name
        self.site = site
        self.options = options
        self.clock = clock
        self.t0 = clock.now()
        self.t = 0.0  # simulated seconds since start, up to which the physics has been stepped
        self.rng = np.random.default_rng(options.seed)
        self.plant = Plant(
            [
                StringSetup(
                    s.chemistry, s.nominal_voltage_v, s.rated_capacity_ah, s.count, options.ups_power_w
                )
                for s in site.strings
            ],
            self.rng,
            unit_spread=options.unit_spread,
            initial_soc=options.initial_soc,
            ambient_c=options.ambient_c,
        )
        self.plant.temperature_compensation[:] = options.temperature_compensation
        self.ambient_mean_c = options.ambient_c
        self.ambient_swing_c = options.ambient_swing_c
        self.inputs = [True, False, False, False]  # DI0 mains present, DI1 door, DI2 H2/smoke, DI3 spare
        self._next_serial = 24_100_001 + (options.seed % 1000) * 1000
        self._active: set[BlockMonitor] = set()
        self.buses: dict[str, SimBus] = {
            line: SimBus(
                line,
                self.elapsed,
                baud=baud,
                latency_s=options.latency_ms / 1000,
                seed=options.seed + k,
                before_request=self.step_to,
            )
            for k, (line, baud) in enumerate(site.lines.items())
        }
        self.aux: AuxModule | None = None
        self._build_devices()
        for line, baud in site.lines.items():
            self.set_line_baud(line, baud)
        events = scenario.events if scenario is not None else []
        self.pending: list[BaseModel] = sorted(events, key=lambda e: e.at)  # type: ignore[attr-defined]
        self.applied: list[BaseModel] = []

    # ------------------------------------------------------------------ building
    def new_serial(self) -> int:
        serial = self._next_serial
        self._next_serial += 1
        return serial

    def _build_devices(self) -> None:
        seed = self.options.seed
        blocks: list[BlockMonitor] = []
        for k, s in enumerate(self.site.strings):
            bus = self.buses[s.bus]
            per = s.channels
            first = int(self.plant.first_unit[k])
            for j, address in enumerate(s.monitor_addresses()):
                units: list[int | None] = [
                    first + j * per + c if j * per + c < s.count else None for c in range(per)
                ]
                model = m.block_model(s.model)
                dev = BlockMonitor(self, model, address, self.new_serial(), units, seed=seed)
                bus.devices.append(dev)
                blocks.append(dev)
            if s.current_sensor is not None:
                self.buses[s.current_sensor.bus].devices.append(
                    CurrentSensor(
                        self,
                        s.current_sensor.address,
                        self.new_serial(),
                        k,
                        range_a=self.options.current_sensor_range_a or self._fitting_cs_range(k),
                        seed=seed,
                    )
                )
        if self.site.ambient is not None:
            self.buses[self.site.ambient.bus].devices.append(
                AmbientSensor(self, self.site.ambient.address, self.new_serial(), seed=seed)
            )
        if self.site.aux is not None:
            self.aux = AuxModule(self, self.site.aux.address, self.new_serial(), seed=seed)
            self.buses[self.site.aux.bus].devices.append(self.aux)
        for dev in blocks[len(blocks) - self.options.factory_fresh :] if self.options.factory_fresh else []:
            dev.address = m.UNADDRESSED_ID

    # ------------------------------------------------------------------ time
    def _fitting_cs_range(self, string: int) -> int:
        """The smallest rated CS range (A) that covers the string's largest current, with a
        quarter to spare: the UPS load at the cut-off voltage, or the charger's limit. An
        installer sizes the sensor so; a 100 A sensor on a 400 Ah string would clip in an outage."""
        p = self.plant
        largest = max(float(p.ups_power_w[string] / p.cutoff_v()[string]), float(p.charger_limit_a[string]))
        return next((r for r in (100, 200, 500) if r >= 1.25 * largest), 1000)

    def elapsed(self) -> float:
        """Simulated seconds since the world started (the devices' and the bus's time base)."""
        return self.clock.now() - self.t0

    def step_to(self, t: float) -> None:
        """Advance physics, events and watchdogs to ``t`` simulated seconds."""
        dt = self.options.step_s
        while self.t + dt <= t:
            self._run_events(self.t)
            self._wire_chargers(self.t)
            self.plant.step(dt, self.ambient_c_at(self.t))
            self.t += dt
            for dev in list(self._active):
                dev.check_watchdog(self.t)
                if not dev.bypass_active():
                    self._active.discard(dev)
        self._run_events(t)

    def _wire_chargers(self, t: float) -> None:
        """``charger_trip_relay``: the AUX coil (its timeout included) trips every charger."""
        k = self.options.charger_trip_relay
        if k is None or self.aux is None:
            return
        self.aux.update(t)
        self.plant.charger_on[:] = not self.aux.relays[k]

    def sync(self) -> None:
        """Catch up with the clock."""
        self.step_to(self.elapsed())

    async def run(self) -> None:
        """Keep physics and watchdogs moving between requests (about 4 times per real second)."""
        period = max(self.options.step_s, 0.25 * self.clock.speed)
        while True:
            await self.clock.sleep(period)
            self.sync()

    def _run_events(self, t: float) -> None:
        while self.pending and self.pending[0].at <= t:  # type: ignore[attr-defined]
            self.apply(self.pending.pop(0), now=t)

    # ------------------------------------------------------------------ the room (Host)
    def ambient_c_at(self, t: float) -> float:
        hour = ((self.t0 + t) % 86400.0) / 3600.0
        return self.ambient_mean_c + self.ambient_swing_c * math.sin(2 * math.pi * (hour - 10.0) / 24.0)

    def ambient_c(self) -> float:
        return self.ambient_c_at(self.t)

    def humidity_pct(self) -> float:
        # relative humidity falls as the room warms (same absolute humidity)
        return float(
            np.clip(self.options.humidity_pct - 3.0 * (self.ambient_c() - self.ambient_mean_c), 5, 95)
        )

    def aux_inputs(self) -> list[bool]:
        return [bool(self.plant.mains_on.all()), *self.inputs[1:]]

    def bypass_changed(self, device: Device) -> None:
        if isinstance(device, BlockMonitor) and device.bypass_active():
            self._active.add(device)

    # ------------------------------------------------------------------ API for tests and tools
    def bus(self, line: str | None = None) -> SimBus:
        """The bus of ``line`` (default: the first line)."""
        if line is None:
            return next(iter(self.buses.values()))
        try:
            return self.buses[line]
        except KeyError:
            raise KeyError(f"no simulated line {line!r}; lines: {', '.join(self.buses)}") from None

    def set_line_baud(self, line: str, baud: int) -> None:
        """Run ``line`` at ``baud`` with every device on it set to that baud (as installed)."""
        bus = self.bus(line)
        bus.baud = baud
        code = m.BAUD_RATES.index(baud)
        for dev in bus.devices:
            dev.baud_code = dev.baud_setting = code

    def devices(self, line: str | None = None) -> list[Device]:
        return list(self.bus(line).devices)

    def monitor(self, address: int, line: str | None = None) -> Device:
        """The device at unit id ``address`` on ``line`` (first one, if several sit at 247)."""
        for dev in self.bus(line).devices:
            if dev.address == address:
                return dev
        raise KeyError(f"no device at address {address} on {self.bus(line).name}")

    def by_serial(self, serial: int) -> Device:
        for bus in self.buses.values():
            for dev in bus.devices:
                if dev.serial == serial:
                    return dev
        raise KeyError(f"no device with serial {serial}")

    def registers(self, address: int, line: str | None = None) -> dict[str, dict[int, int]]:
        """The registers a device holds now (reading them here clears nothing)."""
        self.sync()
        dev = self.monitor(address, line)
        now = self.elapsed()
        dev.update(now)
        return {"input": dev.input_registers(now), "holding": dev.holding_registers(now)}

    def coils(self, address: int, line: str | None = None) -> list[bool]:
        """The relay coils of the AUX module at ``address`` now (expired ones read OFF)."""
        self.sync()
        dev = self.monitor(address, line)
        if not isinstance(dev, AuxModule):
            raise KeyError(f"the device at address {address} has no relays")
        dev.update(self.elapsed())
        return list(dev.relays)

    def unit_state(self, string: int, position: int) -> dict[str, float]:
        """True physical values of one battery (what an ideal instrument would read)."""
        self.sync()
        u = self.plant.unit(string, position)
        p = self.plant
        return {
            "voltage_v": float(p.voltage_v[u]),
            "temperature_c": float(p.temp_c[u]),
            "ri_ohm": float(p.ri_ohm()[u]),
            "soc": float(p.soc[u]),
            "capacity_ah": float(p.capacity_ah()[u]),
            "current_a": float(p.cell_current_a[u]),
            "float_current_a": float(p.gas_current_a[u]),
            "bypass_current_a": float(p.bypass_a[u]),
            "heat_w": float(p.heat_w[u]),
        }

    def string_state(self, string: int) -> dict[str, float | bool]:
        self.sync()
        p = self.plant
        return {
            "voltage_v": float(p.string_voltage_v[string]),
            "current_a": float(p.string_current_a[string]),
            "ripple_a": float(p.ripple_a()[string]),
            "mains_on": bool(p.mains_on[string]),
            "load_cut_off": bool(p.load_cut_off[string]),
            "charger_on": bool(p.charger_on[string]),
        }

    def press_button(
        self,
        address: int | None = None,
        *,
        serial: int | None = None,
        line: str | None = None,
        hold_s: float = 1.0,
    ) -> dict[str, Any]:
        """Press a device's address button (learn mode; ≥10 s: factory reset); returns the device."""
        self.sync()
        dev = (
            self.by_serial(serial) if serial is not None else self.monitor(address or m.UNADDRESSED_ID, line)
        )
        dev.press_button(self.elapsed(), hold_s)
        return dev.describe()

    def apply(self, event: BaseModel | dict[str, Any], now: float | None = None) -> None:
        """Apply a scenario event now (``{"do": "mains_failure"}`` or an event model)."""
        ev = sc.parse_event(event)
        t = self.elapsed() if now is None else now
        if now is None:
            self.step_to(t)
        _apply_event(self, ev, t)
        self.applied.append(ev)


def _strings(world: World, string: int | None) -> slice | list[int]:
    return slice(None) if string is None else [string]


def _apply_event(w: World, ev: BaseModel, t: float) -> None:
    p = w.plant
    if isinstance(ev, sc.MainsFailure):
        p.mains_on[_strings(w, ev.string)] = False
    elif isinstance(ev, sc.MainsReturn):
        p.mains_on[_strings(w, ev.string)] = True
    elif isinstance(ev, sc.BoostCharge):
        p.boost_until[_strings(w, ev.string)] = p.t_s + ev.duration_s
    elif isinstance(ev, sc.UpsLoad):
        p.ups_power_w[_strings(w, ev.string)] = ev.power_w
    elif isinstance(ev, sc.RiRamp):
        p.ri_ramp_per_s[p.unit(ev.string, ev.position)] = ev.rate_per_day / 86400.0
    elif isinstance(ev, sc.CapacityFade):
        u = p.unit(ev.string, ev.position)
        if ev.fraction is not None:
            p.capacity_fraction[u] = ev.fraction
        p.capacity_loss_per_s[u] = ev.rate_per_day / 86400.0
    elif isinstance(ev, sc.ThermalRunaway):
        u = p.unit(ev.string, ev.position)
        # dried-out separator: a soft short whose conductance doubles per 10 K, and poorer cooling
        p.short_conductance_s[u] = RUNAWAY_SHORT_S_PER_V * ev.severity
        p.cooling_multiplier[u] = 0.6
        p.i0_multiplier[u] *= 3.0
    elif isinstance(ev, sc.Ambient):
        w.ambient_mean_c = ev.temperature_c
        if ev.swing_c is not None:
            w.ambient_swing_c = ev.swing_c
    elif isinstance(ev, sc.UnitSilent):
        w.monitor(ev.address, ev.line).silent = ev.silent
    elif isinstance(ev, sc.FuseBlown | sc.SensorFault):
        dev = w.monitor(ev.address, ev.line)
        if isinstance(dev, BlockMonitor):
            flags = dev.fuse_open if isinstance(ev, sc.FuseBlown) else dev.temp_sensor_fault
            flags[ev.channel] = ev.blown if isinstance(ev, sc.FuseBlown) else ev.fault
        elif isinstance(ev, sc.SensorFault):
            dev.fault = ev.fault  # type: ignore[attr-defined]
    elif isinstance(ev, sc.MonitorReplaced):
        _replace_monitor(w, ev, t)
    elif isinstance(ev, sc.ButtonPress):
        dev = w.by_serial(ev.serial) if ev.serial is not None else w.monitor(ev.address or 247, ev.line)
        dev.press_button(t, ev.hold_s)
    elif isinstance(ev, sc.LineUnplugged):
        w.bus(ev.line).faults.unplugged_until = t + ev.duration_s
    elif isinstance(ev, sc.BusFaultChange):
        for bus in [w.bus(ev.line)] if ev.line else list(w.buses.values()):
            for key in ("crc_error_rate", "drop_rate", "garbage_rate"):
                if getattr(ev, key) is not None:
                    setattr(bus.faults, key, getattr(ev, key))
    elif isinstance(ev, sc.AuxInput):
        if ev.input == 0:
            p.mains_on[:] = ev.value
        w.inputs[ev.input] = ev.value


def _replace_monitor(w: World, ev: sc.MonitorReplaced, t: float) -> None:
    """A new monitor at the old address: new serial, fresh registers, same batteries."""
    bus = w.bus(ev.line)
    old = w.monitor(ev.address, ev.line)
    serial = ev.serial if ev.serial is not None else w.new_serial()
    if isinstance(old, BlockMonitor):
        new: Device = BlockMonitor(
            w, old.model, old.address, serial, list(old.units), seed=w.options.seed, now=t
        )
        for u in old.units:
            if u is not None:
                w.plant.bypass_a[u] = 0.0
        w._active.discard(old)
    elif isinstance(old, CurrentSensor):
        new = CurrentSensor(
            w, old.address, serial, old.string, range_a=old.range_a, seed=w.options.seed, now=t
        )
    else:
        new = type(old)(w, old.address, serial, seed=w.options.seed, now=t)  # type: ignore[call-arg]
    new.boot_until = t + m.BOOT_TIME_S
    bus.devices[bus.devices.index(old)] = new
