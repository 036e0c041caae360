"""The hub: the one writer. Readings in, commands in; a new immutable snapshot out every cycle.

Bus masters hand it readings, the numerical engine estimates and controls per string, the
alarm manager turns values and findings into alarms, and northbound services read the
snapshot it publishes. Nothing else changes state.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from typing import Any

import numpy as np

from gateway.core.alarms.kinds import KINDS
from gateway.core.alarms.manager import AlarmManager
from gateway.core.bus.master import BusMaster
from gateway.core.bus.units import CycleResult, bindings_for_line
from gateway.core.bus.wizard import Wizards
from gateway.core.commands import COMMAND_KINDS, Command, CommandResult
from gateway.core.components import Component, EmptyConfig, GatewayContext, HistorySink
from gateway.core.engine import StringEngine, StringEstimate, StringSpec
from gateway.core.events import Event
from gateway.core.hub_state import STALE_AFTER_CYCLES, LatestReadings, StateFile
from gateway.core.hub_views import site_snapshot, with_alarm_statuses
from gateway.core.logging import get_logger
from gateway.core.model import LineStats, Snapshot
from gateway.core.topology import UnitBinding, unit_bindings
from gateway.plugins import Plugins

log = get_logger("gateway.hub")

CYCLE_S = 1.0  # the engine steps and a snapshot is published every second of gateway time
SAVE_EVERY_S = 60.0  # learnt state is persisted this often (and on stop)
RECENT_CYCLES = 60  # how many publishes' view of each line's cycle time the stale horizon remembers


class Hub(Component):
    """Owns the state of the site; publishes :class:`Snapshot` versions."""

    def __init__(self, ctx: GatewayContext, plugins: Plugins) -> None:
        super().__init__(EmptyConfig(), ctx)
        loaded = ctx.config
        self.root = loaded.root
        self.bindings: list[list[UnitBinding]] = unit_bindings(self.root)
        self.readings = LatestReadings()
        self.history: HistorySink | None = None
        drivers = plugins.registry.items("monitor")
        self.masters: dict[str, BusMaster] = {}
        for line, options in zip(self.root.lines, loaded.line_options, strict=True):
            transport_cls = plugins.registry.get("transport", line.scheme)
            assert transport_cls is not None  # the config was validated against the registry
            transport = transport_cls(line.url, options, ctx)
            self.masters[line.name] = BusMaster(
                line,
                transport,
                bindings_for_line(self.root, line.name, drivers),
                drivers,
                ctx,
                self._on_cycle,
                line.polling,
            )
        self.wizards = Wizards(self.masters, ctx.events, ctx.clock)  # addressing, one session per line
        self.engines = [
            StringEngine(
                StringSpec(
                    units=s.units.count,
                    chemistry=s.chemistry.value,
                    nominal_voltage_v=s.nominal_voltage_v,
                    rated_capacity_ah=s.rated_capacity_ah,
                    model=s.units.model,
                ),
                self.root.engine,
            )
            for s in self.root.strings
        ]
        self.estimates: list[StringEstimate | None] = [None] * len(self.engines)
        self.alarms = AlarmManager(self.root.alarms, self.root, ctx.events, ctx.clock)
        self.state_file = StateFile(ctx.data_dir / "state" / "engine.json")
        self._version = 0
        self._snapshot = Snapshot(version=0, time=ctx.clock.now(), site_name=self.root.site.name)
        self._task: asyncio.Task[None] | None = None
        self._last_save = -math.inf
        self.stale_after_s: dict[str, float] = {}  # per line, refreshed every cycle
        self._recent_cycles: dict[str, collections.deque[float]] = {}
        ctx.snapshot_source = self.snapshot

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._load_state()
        self._publish(self.ctx.clock.now())
        for master in self.masters.values():
            await master.start()
        self._task = asyncio.create_task(self._loop(), name="hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.wizards.close()  # sessions borrow their lines: end them before the masters stop
        for master in reversed(list(self.masters.values())):
            await master.stop()
        self._save_state()

    async def _loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(CYCLE_S)
            try:
                await self.cycle()
            except Exception:  # one bad cycle must not end the engine; it is logged with its traceback
                log.exception("engine cycle failed")

    async def cycle(self) -> None:
        """One step: commands, engine per string, alarms, outputs, snapshot, history."""
        now = self.ctx.clock.now()
        self._run_commands()
        self._step_engines(now)
        snap = self._publish(now)
        self._drive_outputs()
        if self.history is not None:
            await self.history.write(snap)
        if now - self._last_save >= SAVE_EVERY_S:
            self._last_save = now
            # the state is gathered here, in the one writer; the fsync'd write happens off the loop
            await asyncio.to_thread(self._write_state, self._state())

    # ----------------------------------------------------------------- input
    def _on_cycle(self, result: CycleResult) -> None:
        """A bus master finished a cycle: keep its readings, pass on its events."""
        self.readings.add(result.readings)
        self.readings.comm_lost[result.line] = result.comm_lost
        for event in result.events:
            self.ctx.events.publish(event)

    def _step_engines(self, now: float) -> None:
        amb = self.root.sensors.ambient
        ambient = self.readings.sensor_value(amb.bus, amb.address, "temperature_c") if amb else math.nan
        for i, (s, engine) in enumerate(zip(self.root.strings, self.engines, strict=True)):
            cs = s.current_sensor
            current = (
                self.readings.sensor_value(cs.bus, cs.address, "current_a", fresh_only=True)
                if cs
                else math.nan
            )
            m = self.readings.measurement(self.bindings[i], now, current, ambient)
            est = engine.step(m)
            self.estimates[i] = est
            for k in engine.take_ri_requests(now):
                b = self.bindings[i][k]
                with contextlib.suppress(ValueError):
                    self.masters[b.bus].request_ri(b.address, b.channel)
            for b, duty in zip(self.bindings[i], est.duty, strict=True):
                self.masters[b.bus].set_bypass(b.address, b.channel, float(duty))
            for report in est.discharge_reports:
                self.ctx.events.publish(
                    Event(
                        time=now,
                        kind="discharge",
                        code="discharge_report",
                        source=f"strings[{i}]",
                        message=f"{s.name}: discharge of {_ah_text(report.ah)} ended; weakest unit "
                        f"{report.weakest_unit + 1}",
                        data=report.as_dict(),
                    )
                )

    # ----------------------------------------------------------------- output
    def _publish(self, now: float) -> Snapshot:
        self._version += 1
        lines = tuple(m.stats() for m in self.masters.values())
        self.stale_after_s = {s.name: self._stale_after_s(s) for s in lines}
        strings = site_snapshot(self, now)
        findings = [(i, f) for i, e in enumerate(self.estimates) if e for f in e.findings]
        amb = self.root.sensors.ambient
        ambient = self.readings.sensor_value(amb.bus, amb.address, "temperature_c") if amb else math.nan
        humidity = self.readings.sensor_value(amb.bus, amb.address, "humidity_pct") if amb else math.nan
        self.alarms.evaluate(now, strings, findings, lines, _opt(ambient), _opt(humidity))
        self._snapshot = Snapshot(
            version=self._version,
            time=now,
            site_name=self.root.site.name,
            strings=with_alarm_statuses(strings, self.alarms.unit_status),
            ambient_c=_opt(ambient),
            humidity_pct=_opt(humidity),
            alarms=self.alarms.views(),
            lines=lines,
            relays=self._relays(),
            inputs=self._inputs(),
            extra=self._extra(),
        )
        return self._snapshot

    def _stale_after_s(self, line: LineStats) -> float:
        """Gateway seconds after which a reading of this line is stale: a few of its cycles.

        A cycle is the configured one or, when the line is slower (a long line at 9600 baud,
        retries, or simulated time running faster than the real-time bus), the slowest it took
        lately: cycle times vary (a dead unit's timeouts, a busy machine), and a reading must
        not flicker to stale between a fast cycle and a slow one.
        """
        configured = self.masters[line.name].settings.cycle_s
        speed = self.ctx.clock.speed if math.isfinite(self.ctx.clock.speed) else 1.0
        recent = self._recent_cycles.setdefault(line.name, collections.deque(maxlen=RECENT_CYCLES))
        if line.cycle_s is not None:
            recent.append(line.cycle_s)
        took = max(recent, default=0.0) * speed  # cycles are measured in real seconds
        return STALE_AFTER_CYCLES * max(configured, took, 1.0)

    def _drive_outputs(self) -> None:
        """The AUX relays: the general-alarm dry contact, and the thermal-runaway action.

        The alarm contact (``alarms.relay.aux_relay``, default relay 0) is energized (closed) only
        while all is well, so an alarm, a dead gateway and a power loss all open it.
        ``engine.thermal.action: aux_relay_1`` energizes relay 1 while any string has a thermal
        runaway (latched until acknowledged), to trip the charger contactor.
        """
        aux = self.root.sensors.aux
        if aux is None:
            return
        master = self.masters[aux.bus]
        relay = self.root.alarms.relay
        if relay.enabled:
            with contextlib.suppress(ValueError, KeyError):
                master.set_relay(aux.address, relay.aux_relay, self.alarms.relay_energized())
        action = self.root.engine.thermal.action
        if action:
            runaway = any(
                f.code == "thermal_runaway" for e in self.estimates if e for f in e.findings
            ) or self.alarms.any_active("thermal_runaway")
            with contextlib.suppress(ValueError, KeyError):
                master.set_relay(aux.address, int(action.rsplit("_", 1)[1]), runaway)

    def _relays(self) -> tuple[bool, ...]:
        aux = self.root.sensors.aux
        r = self.readings.sensors.get((aux.bus, aux.address)) if aux else None
        return tuple(bool(x) for x in (r.values.get("relays") or ())) if r else ()

    def _inputs(self) -> tuple[bool, ...]:
        aux = self.root.sensors.aux
        r = self.readings.sensors.get((aux.bus, aux.address)) if aux else None
        return tuple(bool(x) for x in (r.values.get("inputs") or ())) if r else ()

    def _thresholds(self) -> dict[str, float]:
        """Alarm limits in force: ``strings[i].KIND.warning|alarm``, and ``KIND.…`` for the first string."""
        out: dict[str, float] = {}
        for code in KINDS:
            for i in range(len(self.engines)):
                limits = self.alarms.thresholds.get(code, i)
                for field in ("warning", "alarm"):
                    value = getattr(limits, field)
                    if value is not None:
                        out[f"strings[{i}].{code}.{field}"] = float(value)
                        if i == 0:
                            out[f"{code}.{field}"] = float(value)
        return out

    def _extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strings": [], "thresholds": self._thresholds()}
        for e in self.estimates:
            if e is None:
                out["strings"].append({})
                continue
            out["strings"].append(
                {
                    "string_soc": _opt(e.string_soc),
                    "bypass_power_w": _opt(e.bypass_power_w),
                    "float_current_increase_a": _opt(e.float_current_increase_a),
                    "psoc_time_s": [_opt(x) for x in e.psoc_time_s],
                    "psoc_ah": [_opt(x) for x in e.psoc_ah],
                    "capacity_ah": [_opt(x) for x in e.capacity_ah],
                    "duty_level": list(e.duty_level),
                }
            )
        return out

    # ----------------------------------------------------------------- commands
    def _run_commands(self) -> None:
        for command, fut in self.ctx.commands.drain():
            if fut.done():
                continue
            try:
                result = self.execute(command)
            except (ValueError, KeyError, IndexError, TypeError) as e:
                result = CommandResult(False, f"bad arguments: {e}")
            a = command.actor
            self.ctx.events.publish(
                Event(
                    time=self.ctx.clock.now(),
                    kind="command",
                    code=command.kind,
                    level="info" if result.ok else "warning",
                    actor=a,
                    message=f"{command.kind} {command.args} by {a.user} from {a.source or '?'} via "
                    f"{a.via or '?'}: {'done' if result.ok else 'refused: ' + result.message}",
                    data={"args": command.args, "ok": result.ok},
                )
            )
            fut.set_result(result)

    def execute(self, command: Command) -> CommandResult:
        """Run one command after checking the sender's role."""
        if command.kind not in COMMAND_KINDS:
            return CommandResult(False, f"unknown command {command.kind!r}")
        needed = COMMAND_KINDS[command.kind][0]
        if not command.actor.may(needed):
            return CommandResult(False, f"{command.kind} needs role {needed}")
        a = command.args
        if command.kind == "ack_alarm":
            return self.alarms.ack(int(a["alarm_id"]), command.actor)
        if command.kind == "set_threshold":
            return self.alarms.set_threshold(str(a["key"]), float(a["value"]), command.actor)
        if command.kind == "set_equalization":
            which = range(len(self.engines)) if a.get("string") is None else [int(a["string"])]
            for i in which:
                self.engines[i].set_equalization(bool(a["enabled"]))
            return CommandResult(True, f"equalization {'on' if a['enabled'] else 'off'}")
        if command.kind == "request_ri":
            i, pos = int(a["string"]), int(a["position"])
            self._binding(i, pos)
            self.engines[i].request_ri([pos - 1])
            return CommandResult(True, "Ri measurement requested")
        if command.kind == "set_ri_baseline":
            i = int(a["string"])
            unit = None if a.get("position") is None else int(a["position"]) - 1
            if unit is not None:
                self._binding(i, unit + 1)
            self.engines[i].set_ri_baseline(unit, a.get("ri_ohm"))
            return CommandResult(True, "Ri baseline set")
        if command.kind == "wizard_start":
            return self.wizards.start(str(a["line"]), int(a["start"]))
        if command.kind == "wizard_stop":
            return self.wizards.stop(str(a["line"]))
        if command.kind == "set_relay":
            aux = self.root.sensors.aux
            if aux is None:
                return CommandResult(False, "no AUX module configured")
            self.masters[aux.bus].set_relay(aux.address, int(a["relay"]), bool(a["on"]))
            return CommandResult(True, "relay set")
        return CommandResult(False, f"{command.kind} is not handled")

    def _binding(self, string: int, position: int) -> UnitBinding:
        if not 0 <= string < len(self.bindings) or not 1 <= position <= len(self.bindings[string]):
            raise IndexError(f"no unit strings[{string}] position {position}")
        return self.bindings[string][position - 1]

    # ----------------------------------------------------------------- persistence
    def _load_state(self) -> None:
        state = self.state_file.load()
        for i, d in enumerate(state.get("engines") or []):
            if i < len(self.engines) and d:
                try:
                    self.engines[i].load_state_dict(d)
                except (ValueError, KeyError, TypeError) as e:  # a string that changed size
                    log.warning("engine state not restored", string=i, error=str(e))
        if state.get("alarms"):
            self.alarms.load_state_dict(state["alarms"])

    def _state(self) -> dict[str, Any]:
        return {"engines": [e.state_dict() for e in self.engines], "alarms": self.alarms.state_dict()}

    def _write_state(self, state: dict[str, Any]) -> None:
        try:
            self.state_file.save(state)
        except OSError as e:
            log.error("cannot save engine state", path=str(self.state_file.path), error=str(e))

    def _save_state(self) -> None:
        self._last_save = self.ctx.clock.now()
        self._write_state(self._state())


def _opt(x: Any) -> float | None:
    """None for NaN/None, else a plain float (snapshots hold no numpy scalars)."""
    if x is None:
        return None
    f = float(x)
    return f if np.isfinite(f) else None


def _ah_text(ah: float) -> str:
    return f"{ah:.1f} Ah" if math.isfinite(ah) else "unknown Ah (no current reading)"
