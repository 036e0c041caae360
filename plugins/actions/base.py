"""What every action shares: which events it takes (``on``, ``min_level``) and its own event feed.

Each action subscribes to the event bus in ``start()`` and handles matching events one at a
time in its own task, so a slow mail server delays only mail, never the engine or other actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from typing import Any

from pydantic import Field

from gateway.core.components import AlarmAction, ComponentConfig, GatewayContext
from gateway.core.events import Event, Subscription
from gateway.core.logging import get_logger

log = get_logger("plugins.actions")

_LEVELS = {"info": 0, "warning": 1, "alarm": 2}


class ActionConfig(ComponentConfig):
    on: list[str] = Field(
        ["alarm"],
        description="Events to act on: KIND, KIND.CODE, KIND:STATE or "
        "KIND.CODE:STATE, with * wildcards (alarm:raised, login.login_failed, *).",
    )
    min_level: str = Field(
        "warning",
        pattern="^(info|warning|alarm)$",
        description="Ignore events below this level (info, warning, alarm).",
    )


def matches(event: Event, selectors: list[str], min_level: str) -> bool:
    """True when ``event`` is at least ``min_level`` and one selector fits it."""
    if _LEVELS.get(event.level, 0) < _LEVELS[min_level]:
        return False
    for sel in selectors:
        what, _, state = sel.partition(":")
        kind, _, code = what.partition(".")
        if not fnmatch.fnmatchcase(event.kind, kind or "*"):
            continue
        if code and not fnmatch.fnmatchcase(event.code, code):
            continue
        if state and not fnmatch.fnmatchcase(event.state or "", state):
            continue
        return True
    return False


def event_json(event: Event) -> dict[str, Any]:
    """The event as plain JSON types."""
    d = event.to_dict()
    return {k: v for k, v in d.items() if v is not None}


class EventAction(AlarmAction):
    """An action fed by its own subscription to the event bus."""

    Config = ActionConfig

    def __init__(self, config: ActionConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: ActionConfig = config
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.handled = 0
        self.failures = 0
        self._last_error = ""

    def wants(self, event: Event) -> bool:
        return matches(event, self.config.on, self.config.min_level)

    async def start(self) -> None:
        self._sub = self.ctx.events.subscribe(maxsize=1000)
        self._task = asyncio.create_task(self._run(), name=f"action-{type(self).__name__}")

    async def _run(self) -> None:
        assert self._sub is not None
        while True:
            event = await self._sub.get()
            if not self.wants(event):
                continue
            try:
                await self.handle(event)
                self.handled += 1
            except Exception as e:  # one failed action must not stop the next event
                self.failures += 1
                if repr(e) != self._last_error:  # logged once per kind of failure, then counted
                    self._last_error = repr(e)
                    log.warning(
                        "action failed", action=type(self).__name__, error=repr(e), failures=self.failures
                    )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sub is not None:
            self.ctx.events.unsubscribe(self._sub)
            self._sub = None
