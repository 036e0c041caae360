"""The ``syslog`` service: every event (or the kinds configured) to each collector as RFC 5424."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, ClassVar

from gateway.core.components import GatewayContext, Service
from gateway.core.events import LEVELS, Event
from gateway.core.logging import get_logger
from plugins.northbound_syslog.config import FACILITIES, SyslogConfig
from plugins.northbound_syslog.rfc5424 import Header, format_message
from plugins.northbound_syslog.sender import CollectorSender

log = get_logger("plugins.northbound_syslog")


class SyslogService(Service):
    """Subscribes to the event bus; formats each event once; each collector sends on its own."""

    Config = SyslogConfig
    summary: ClassVar[str] = "events to syslog collectors: RFC 5424 over UDP, TCP and TLS"

    def __init__(self, config: SyslogConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: SyslogConfig = config
        self.header = Header(
            facility=FACILITIES[config.facility],
            hostname=config.hostname or socket.gethostname(),
            app_name=config.app_name,
            sd_id=f"cellgate@{config.enterprise_number}",
        )
        self.senders = [CollectorSender(c, self.header, ctx.resolve) for c in config.collectors]
        self._sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._min_level = LEVELS.index(config.min_level)

    async def start(self) -> None:
        self._sub = self.ctx.events.subscribe()
        for s in self.senders:
            s.start()
        self._task = asyncio.create_task(self._pump(), name="syslog-events")
        log.info("syslog sending events", collectors=[s.name for s in self.senders])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sub is not None:
            self.ctx.events.unsubscribe(self._sub)
            self._sub = None
        await asyncio.gather(*(s.stop() for s in self.senders))

    def wanted(self, event: Event) -> bool:
        if self.config.kinds is not None and event.kind not in self.config.kinds:
            return False
        level = LEVELS.index(event.level) if event.level in LEVELS else len(LEVELS) - 1
        return level >= self._min_level

    def handle(self, event: Event) -> None:
        """Format once, queue to every collector; never waits."""
        if not self.wanted(event):
            return
        message = format_message(event, self.header)
        for s in self.senders:
            s.put(message)

    async def _pump(self) -> None:
        assert self._sub is not None
        reported = 0
        while True:
            event = await self._sub.get()
            if self._sub.dropped != reported:  # the event bus itself dropped some: we were too slow
                log.warning("syslog fell behind the event bus", dropped=self._sub.dropped - reported)
                reported = self._sub.dropped
            try:
                self.handle(event)
            except Exception:  # one odd event must not end the log stream
                log.exception("syslog could not format an event", event_id=event.id, kind=event.kind)

    def stats(self) -> list[dict[str, Any]]:
        return [s.stats() for s in self.senders]
