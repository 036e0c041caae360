"""What the web app shares between requests: the gateway context, sessions, throttles, the
snapshot cache, recent events, in-memory trends, and the live-update fan-out.

One instance per running web service; the ASGI app reaches it as ``request.app.state.web``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

from gateway.core.commands import Actor
from gateway.core.components import AuthenticationRejected, GatewayContext
from gateway.core.events import Event
from plugins.auth_local.ratelimit import LoginThrottle
from plugins.web.config import WebConfig
from plugins.web.serialize import SnapshotCache
from plugins.web.sessions import SessionStore
from plugins.web.trends import TrendBuffer
from plugins.web.wizard_board import WizardBoard

if TYPE_CHECKING:
    from plugins.auth_local.authenticator import LocalAuthenticator

RECENT_EVENTS = 2000


class WebState:
    def __init__(
        self,
        ctx: GatewayContext,
        config: WebConfig,
        local: LocalAuthenticator | None,
        *,
        own_local: bool = False,
    ) -> None:
        self.ctx = ctx
        self.config = config
        #: the local user store's authenticator, for user pages and tokens (None: no local users)
        self.local = local
        #: True when ``local`` is the web's own (no authenticator configured): logins skip the
        #: gateway's chain, and the web publishes the login events the chain would have
        self.own_local = own_local
        self.sessions = SessionStore(config.session_idle_s, config.session_max_s)
        self.source_throttle = LoginThrottle(
            config.login_max_failures, config.login_lockout_s, config.login_lockout_s
        )
        self.cache = SnapshotCache()
        self.trends = TrendBuffer(config.trend_points, config.trend_interval_s)
        self.recent_events: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self.wizards = WizardBoard()
        self.listeners: set[asyncio.Queue[Event]] = set()
        self.shutting_down = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self._subscription = self.ctx.events.subscribe(maxsize=RECENT_EVENTS)
        self._tasks = [
            asyncio.create_task(self._pump_events(), name="web-events"),
            asyncio.create_task(self._sample_trends(), name="web-trends"),
        ]

    async def stop(self) -> None:
        self.shutting_down.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._subscription is not None:
            self.ctx.events.unsubscribe(self._subscription)
            self._subscription = None

    async def _pump_events(self) -> None:
        assert self._subscription is not None
        async for event in self._subscription:
            self.recent_events.append(event)
            self.wizards.observe(event)
            for queue in list(self.listeners):
                if queue.full():  # a stalled browser loses its oldest events, never blocks us
                    queue.get_nowait()
                queue.put_nowait(event)

    async def _sample_trends(self) -> None:
        while True:
            self.trends.record(self.ctx.snapshot())
            # real time: how often we look, not what the samples say (those carry snapshot time)
            await asyncio.sleep(0.5)

    # -- helpers for the routes -------------------------------------------------------

    async def authenticate(self, user: str, password: str, source: str) -> Actor | None:
        """The gateway's authenticator chain (which publishes the login event), else our own
        local users (and then we publish it)."""
        if not self.own_local and self.ctx.authenticate is not None:
            actor = await self.ctx.authenticate(user, password, source, via="web")
        else:
            try:
                actor = await self.local.authenticate(user, password, source) if self.local else None
            except AuthenticationRejected:
                actor = None
            who = actor or Actor(user=user, role="none", source=source, via="web")
            self.publish(
                "login",
                "login" if actor else "login_failed",
                f"{user} logged in via web" if actor else f"login of {user} refused",
                who,
                level="info" if actor else "warning",
            )
        if actor is None:
            return None
        return Actor(user=actor.user, role=actor.role, source=source, via="web")

    def publish(
        self,
        kind: str,
        code: str,
        message: str,
        actor: Actor,
        *,
        level: str = "info",
        source: str = "web",
        data: dict[str, object] | None = None,
    ) -> None:
        self.ctx.events.publish(
            Event(
                time=self.ctx.clock.now(),
                kind=kind,
                code=code,
                message=message,
                level=level,
                source=source,
                actor=actor,
                data=dict(data or {}),
            )
        )
