"""Events: every alarm transition, command, login, config change and discharge report.

The engine publishes; subscribers (history, actions, syslog, SNMP traps, the web UI's live
feed) each get their own bounded queue, so a slow subscriber cannot hold up the engine.
A subscriber that falls behind loses its oldest events and is told how many.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.core.commands import Actor

LEVELS = ("info", "warning", "alarm")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, with its time and, for writes, who did it."""

    time: float
    kind: str  # "alarm", "command", "login", "config", "monitor", "discharge", "system"
    code: str  # e.g. "unit_voltage_high", "ack", "login_failed"
    message: str
    level: str = "info"  # "info" | "warning" | "alarm"
    source: str = "site"  # "strings[0].units[3]", "lines[bus1]", ...
    state: str | None = None  # for alarms: "raised", "cleared", "acknowledged"
    actor: Actor | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Subscription:
    """One subscriber's view of the event stream."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    async def get(self) -> Event:
        return await self.queue.get()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self.queue.get()


class EventBus:
    """Fan-out of events to subscribers; ``publish`` never blocks."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._ids = itertools.count(1)

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: Event) -> Event:
        """Number the event and hand it to every subscriber; returns the numbered event."""
        if not event.id:
            event = Event(**{**_fields(event), "id": next(self._ids)})
        for sub in self._subs:
            if sub.queue.full():
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(event)
        return event

    def start_ids_after(self, last_id: int) -> None:
        """Continue numbering after events already persisted (history reopened)."""
        self._ids = itertools.count(last_id + 1)


def _fields(event: Event) -> dict[str, Any]:
    return {f: getattr(event, f) for f in event.__slots__}
