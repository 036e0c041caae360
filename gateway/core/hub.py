"""The hub: the one writer. Readings in, commands in; a new immutable snapshot out every cycle.

Bus masters hand it readings, the numerical engine estimates and controls per string, the
alarm manager turns values and findings into alarms, and northbound services read the
snapshot it publishes. Nothing else changes state.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from gateway.core.commands import Command, CommandResult
from gateway.core.components import Component, EmptyConfig, GatewayContext
from gateway.core.logging import get_logger
from gateway.core.model import (
    ChannelReading,
    Quality,
    SensorReading,
    Snapshot,
    StringMode,
    StringView,
    UnitView,
)
from gateway.core.topology import UnitBinding, unit_bindings
from gateway.plugins import Plugins

log = get_logger("gateway.hub")

CYCLE_S = 1.0


class Hub(Component):
    """Owns the state of the site; publishes :class:`Snapshot` versions."""

    def __init__(self, ctx: GatewayContext, plugins: Plugins) -> None:
        super().__init__(EmptyConfig(), ctx)
        self.plugins = plugins
        self.root = ctx.config.root
        self.bindings: list[list[UnitBinding]] = unit_bindings(self.root)
        self._channels: dict[tuple[str, int, int], ChannelReading] = {}
        self._sensors: dict[tuple[str, int], SensorReading] = {}
        self._version = 0
        self._snapshot = Snapshot(version=0, time=ctx.clock.now(), site_name=self.root.site.name)
        self._task: asyncio.Task[None] | None = None
        ctx.snapshot_source = self.snapshot

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # ----------------------------------------------------------------- input
    def ingest(self, readings: list[ChannelReading | SensorReading]) -> None:
        """Keep the latest reading of every channel and sensor (called by bus masters)."""
        for r in readings:
            if isinstance(r, ChannelReading):
                self._channels[(r.bus, r.address, r.channel)] = r
            else:
                self._sensors[(r.bus, r.address)] = r

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._publish()
        self._task = asyncio.create_task(self._loop(), name="hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(CYCLE_S)
            await self._run_commands()
            self._publish()

    # ----------------------------------------------------------------- commands
    async def _run_commands(self) -> None:
        for command, fut in self.ctx.commands.drain():
            if fut.done():
                continue
            try:
                result = self.execute(command)
            except Exception as e:  # a bad command must not stop the engine
                log.warning("command failed", kind=command.kind, error=repr(e))
                result = CommandResult(False, f"failed: {e}")
            fut.set_result(result)

    def execute(self, command: Command) -> CommandResult:
        from gateway.core.commands import COMMAND_KINDS

        if command.kind not in COMMAND_KINDS:
            return CommandResult(False, f"unknown command {command.kind!r}")
        needed = COMMAND_KINDS[command.kind][0]
        if not command.actor.may(needed):
            return CommandResult(False, f"{command.kind} needs role {needed}")
        return CommandResult(False, f"{command.kind} is not available yet")

    # ----------------------------------------------------------------- output
    def _unit_view(self, b: UnitBinding, now: float) -> UnitView:
        r = self._channels.get((b.bus, b.address, b.channel))
        return UnitView(
            string=b.string,
            position=b.position,
            model=b.model,
            bus=b.bus,
            address=b.address,
            channel=b.channel,
            voltage_v=r.voltage_v if r else None,
            temperature_c=r.temperature_c if r else None,
            ri_ohm=r.ri_ohm if r else None,
            ri_baseline_ohm=None,
            soc=None,
            soh=None,
            psoc=False,
            equalize_duty=r.duty if r else 0.0,
            status="ok" if r else "no_data",
            quality=r.quality if r else Quality.NO_DATA,
            updated_at=r.time if r else None,
        )

    def _publish(self) -> None:
        now = self.ctx.clock.now()
        strings = []
        for i, s in enumerate(self.root.strings):
            units = tuple(self._unit_view(b, now) for b in self.bindings[i])
            volts = [u.voltage_v for u in units if u.voltage_v is not None]
            strings.append(
                StringView(
                    index=i,
                    name=s.name,
                    chemistry=s.chemistry.value,
                    voltage_v=sum(volts) if len(volts) == len(units) else None,
                    current_a=None,
                    ripple_a=None,
                    spread_v=(max(volts) - min(volts)) if volts else None,
                    soc=None,
                    runtime_s=None,
                    mode=StringMode.UNKNOWN,
                    units=units,
                )
            )
        self._version += 1
        self._snapshot = Snapshot(
            version=self._version, time=now, site_name=self.root.site.name, strings=tuple(strings)
        )

    def extra(self) -> dict[str, Any]:
        return {}
