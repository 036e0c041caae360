"""Hook implementations: hand two component classes to cellgate's registry."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import Field

from gateway.core.components import AlarmAction, ComponentConfig, Service
from gateway.hookspecs import hookimpl

log = logging.getLogger("cellgate_example")


class HeartbeatConfig(ComponentConfig):
    every_s: float = Field(10.0, gt=0, description="Seconds between two heartbeat log lines.")


class HeartbeatService(Service):
    """Logs the latest snapshot's version now and then: proof that a service runs."""

    Config = HeartbeatConfig
    summary = "logs the snapshot version periodically"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            log.info("heartbeat: snapshot version %d", self.ctx.snapshot().version)
            await self.ctx.clock.sleep(self.config.every_s)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class PrintAction(AlarmAction):
    """Prints every event it is given."""

    summary = "prints events to standard output"

    async def handle(self, event: object) -> None:
        print(f"event: {event}", flush=True)


@hookimpl
def cellgate_register_services(register):  # type: ignore[no-untyped-def]
    register("heartbeat", HeartbeatService)


@hookimpl
def cellgate_register_alarm_actions(register):  # type: ignore[no-untyped-def]
    register("print", PrintAction)
