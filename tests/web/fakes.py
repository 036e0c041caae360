"""A synthetic site for the web tests: snapshots of N strings × M units, and a stand-in engine
that runs commands (ack, equalization, ...) the way the real one answers them.

The stand-in checks roles like the engine does and publishes one ``command`` event per
command, so the web tests see the same audit trail a real gateway leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from gateway.core.clock import ManualClock
from gateway.core.commands import COMMAND_KINDS, Actor, CommandQueue, CommandResult
from gateway.core.components import AuthenticationRejected, GatewayContext
from gateway.core.events import Event, EventBus
from gateway.core.model import AlarmView, DeviceStats, LineStats, Quality, Snapshot
from tests.synthetic import string_view, unit_view

T0 = 1_760_000_000.0


def make_snapshot(strings: int = 2, units: int = 24, version: int = 1, t: float = T0) -> Snapshot:
    """A plausible float-charged site: 13.5 V blocks with a little scatter, a weak unit or two."""
    views = []
    for s in range(strings):
        unit_views = []
        for p in range(1, units + 1):
            wobble = math.sin(p * 1.7 + s + version * 0.3) * 0.04
            status = "ok"
            voltage = 13.55 + wobble
            if p == 7 and s == 0:
                voltage, status = 13.95, "alarm"
            elif p == 12:
                status = "warning"
            quality = Quality.GOOD
            if p == units and s == strings - 1:
                status, quality = "comm_lost", Quality.COMM_LOST
            unit_views.append(
                unit_view(
                    s,
                    p,
                    bus=f"bus{s + 1}",
                    address=1 + (p - 1) // 4,
                    channel=(p - 1) % 4 + 1,
                    voltage_v=voltage,
                    temperature_c=23.0 + (p % 5) * 0.3,
                    ri_ohm=0.0042 + (p % 3) * 0.0002,
                    soc=0.98,
                    soh=0.93 - (p % 4) * 0.02,
                    equalize_duty=max(0.0, wobble) * 5,
                    status=status,
                    quality=quality,
                    updated_at=t - 2.0,
                )
            )
        volts = [u.voltage_v for u in unit_views if u.voltage_v is not None]
        views.append(
            string_view(
                s,
                unit_views,
                name=f"String {'AB'[s] if s < 2 else s + 1}",
                current_a=0.35,
                ripple_a=0.8,
                spread_v=max(volts) - min(volts),
                soc=0.98,
            )
        )
    alarms = (
        AlarmView(
            id=1,
            code="unit_voltage_high",
            level="alarm",
            source="strings[0].units[6]",
            message="String A #7 voltage high: 13.95 V",
            raised_at=t - 60,
            value=13.95,
        ),
        AlarmView(
            id=2,
            code="comm_lost",
            level="warning",
            source=f"strings[{strings - 1}].units[{units - 1}]",
            message="monitor not answering",
            raised_at=t - 30,
        ),
    )
    lines = tuple(
        LineStats(
            name=f"bus{i + 1}",
            url=f"sim://bus{i + 1}",
            state="up",
            requests=1000 * version,
            timeouts=3,
            crc_errors=1,
            latency_ms=12.5,
            cycle_s=1.0,
            units_comm_lost=int(i == strings - 1),
            devices=tuple(
                DeviceStats(
                    a,
                    "C20",
                    "comm_lost" if (i == strings - 1 and a == 3) else "ok",
                    requests=100 * version,
                    timeouts=int(a == 3),
                    latency_ms=9.5,
                    serial=24000000 + a,
                    firmware="1.4",
                )
                for a in range(1, units + 1)
            ),
        )
        for i in range(strings)
    )
    return Snapshot(
        version=version,
        time=t,
        site_name="Test data centre",
        strings=tuple(views),
        ambient_c=22.5,
        humidity_pct=41.0,
        alarms=alarms,
        lines=lines,
        relays=(False, False),
        inputs=(True,),
    )


@dataclass
class FakeEngine:
    """The one writer, reduced to what the web needs: answers commands, publishes events."""

    ctx: GatewayContext
    snapshot: Snapshot
    commands: list = field(default_factory=list)
    _task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def publish(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def tick(self) -> None:
        """A new engine cycle: values move, the version goes up."""
        s = self.snapshot
        fresh = make_snapshot(
            len(s.strings), len(s.strings[0].units) if s.strings else 0, s.version + 1, s.time + 1.0
        )
        self.snapshot = dataclasses.replace(fresh, alarms=s.alarms)

    async def _run(self) -> None:
        while True:
            command, future = await self.ctx.commands.get()
            self.commands.append(command)
            needed = COMMAND_KINDS.get(command.kind, ("admin", ""))[0]
            if not command.actor.may(needed):
                future.set_result(CommandResult(False, f"needs {needed}"))
                continue
            if command.kind == "ack_alarm":
                alarm_id = command.args["alarm_id"]
                self.snapshot = dataclasses.replace(
                    self.snapshot,
                    version=self.snapshot.version + 1,
                    alarms=tuple(
                        dataclasses.replace(a, acked_by=command.actor.user, acked_at=self.snapshot.time)
                        if a.id == alarm_id
                        else a
                        for a in self.snapshot.alarms
                    ),
                )
            self.ctx.events.publish(
                Event(
                    time=self.ctx.clock.now(),
                    kind="command",
                    code=command.kind,
                    actor=command.actor,
                    message=f"{command.kind} {command.args} by {command.actor.user} via {command.actor.via}",
                    data=dict(command.args),
                )
            )
            future.set_result(CommandResult(True, "done"))


def make_context(tmp_path: Path, engine_holder: list) -> GatewayContext:
    """A context whose snapshot is whatever the fake engine last published."""
    return GatewayContext(
        clock=ManualClock(T0),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=tmp_path,
        data_dir=tmp_path / "var",
        snapshot_source=lambda: engine_holder[0].snapshot,
        config={"site": {"name": "Test"}, "services": [{"type": "snmp", "community": "s3cret"}]},
    )


def chain_for(local, ctx: GatewayContext):
    """The authenticator chain as the core's runtime wires it (``Gateway.authenticate``), with only
    the local authenticator in it: it publishes the login event, success or failure."""

    async def authenticate(user: str, password: str, source: str = "", via: str = "") -> Actor | None:
        try:
            actor = await local.authenticate(user, password, source)
        except AuthenticationRejected:
            actor = None
        if actor is not None:
            actor = Actor(actor.user, actor.role, source, via)
        ctx.events.publish(
            Event(
                time=ctx.clock.now(),
                kind="login",
                code="login" if actor else "login_failed",
                level="info" if actor else "warning",
                message=f"{user} via {via}",
                actor=actor or Actor(user, "none", source, via),
            )
        )
        return actor

    return authenticate
