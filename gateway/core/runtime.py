"""The gateway's lifecycle: build every component the file names, start in order, stop in reverse.

Order: history sink → the hub (engine, lines and their bus masters) → authenticators →
actions → northbound services. A component that fails to start stops the ones already
started, and the gateway exits with the error instead of running half-built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.core.clock import Clock, RealClock
from gateway.core.commands import Actor, CommandQueue
from gateway.core.components import AuthenticationRejected, Authenticator, Component, GatewayContext
from gateway.core.config import LoadedConfig
from gateway.core.events import Event, EventBus
from gateway.core.logging import get_logger
from gateway.plugins import Plugins

log = get_logger("gateway.runtime")


class StartupError(Exception):
    """A component refused to start; the message says which and why."""


class Gateway:
    """One running gateway: the context every component shares and the ordered components."""

    def __init__(self, loaded: LoadedConfig, plugins: Plugins, clock: Clock | None = None) -> None:
        self.loaded = loaded
        self.plugins = plugins
        self.events = EventBus()
        self.ctx = GatewayContext(
            clock=clock or RealClock(),
            commands=CommandQueue(),
            events=self.events,
            config_dir=loaded.config_dir,
            data_dir=loaded.data_dir,
            config=loaded,
        )
        self.ctx.authenticate = self.authenticate
        self.components: list[tuple[str, Component]] = []
        self._started: list[tuple[str, Component]] = []
        self.hub: Any = None
        self._build()

    # ----------------------------------------------------------------- building
    def _instance(self, kind: str, type_name: str, config: Any) -> Component:
        cls = self.plugins.registry.get(kind, type_name)
        assert cls is not None, (kind, type_name)  # validated with the config
        instance: Component = cls(config, self.ctx)
        return instance

    def _build(self) -> None:
        from gateway.core.hub import Hub

        sink: Any = None
        if self.loaded.history:
            sink = self._instance("history", *self.loaded.history)
            self.components.append((f"history:{self.loaded.history[0]}", sink))
            if all(hasattr(sink, m) for m in ("events", "series")):
                self.ctx.history = sink
        self.hub = Hub(self.ctx, self.plugins)
        self.hub.history = sink
        self.components.append(("hub", self.hub))
        for name, cfg in self.loaded.authenticators:
            self.components.append((f"authenticator:{name}", self._instance("authenticator", name, cfg)))
        for name, cfg in self.loaded.actions:
            self.components.append((f"action:{name}", self._instance("action", name, cfg)))
        for name, cfg in self.loaded.services:
            self.components.append((f"service:{name}", self._instance("service", name, cfg)))

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start every component in order; on a failure stop what started and raise."""
        self.ctx.data_dir.mkdir(parents=True, exist_ok=True)
        for name, comp in self.components:
            try:
                await comp.start()
            except Exception as e:
                log.error("component failed to start", component=name, error=str(e))
                await self.stop()
                raise StartupError(f"{name} failed to start: {e}") from e
            self._started.append((name, comp))
            log.debug("component started", component=name)
        self.events.publish(
            Event(
                time=self.ctx.clock.now(),
                kind="system",
                code="started",
                message=f"gateway started ({len(self.components)} components)",
            )
        )
        log.info("gateway running", site=self.loaded.root.site.name, components=len(self.components))

    async def stop(self) -> None:
        """Stop started components in reverse order; errors are logged, never raised."""
        while self._started:
            name, comp = self._started.pop()
            try:
                await asyncio.wait_for(comp.stop(), timeout=10)
            except Exception as e:  # a component that fails to stop must not keep others running
                log.error("component failed to stop", component=name, error=repr(e))
            else:
                log.debug("component stopped", component=name)

    async def run(self, stop: asyncio.Event) -> None:
        """Start, wait until ``stop`` is set, stop."""
        await self.start()
        try:
            await stop.wait()
        finally:
            log.info("gateway stopping")
            await self.stop()

    # ----------------------------------------------------------------- authentication
    async def authenticate(self, user: str, password: str, source: str = "", via: str = "") -> Actor | None:
        """Try the authenticator chain in order; publish the outcome as a login event."""
        actor: Actor | None = None
        reason = "unknown user"
        for name, comp in self.components:
            if not isinstance(comp, Authenticator):
                continue
            try:
                actor = await comp.authenticate(user, password, source)
            except AuthenticationRejected as e:
                reason = str(e) or "rejected"
                break
            except Exception as e:  # a broken backend (RADIUS down) must not let anyone in
                log.warning("authenticator failed", authenticator=name, error=repr(e))
                continue
            if actor is not None:
                actor = Actor(actor.user, actor.role, source or actor.source, via or actor.via)
                break
        self.events.publish(
            Event(
                time=self.ctx.clock.now(),
                kind="login",
                code="login" if actor else "login_failed",
                level="info" if actor else "warning",
                message=f"{user} logged in via {via or '?'}"
                if actor
                else f"login of {user} refused: {reason}",
                actor=actor or Actor(user, "none", source, via),
            )
        )
        return actor


async def run_gateway(
    loaded: LoadedConfig,
    plugins: Plugins,
    clock: Clock | None = None,
    install_signals: bool = True,
    ready: Callable[[Gateway], Awaitable[None] | None] | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; the exit status of ``cellgate run``."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    gw = Gateway(loaded, plugins, clock)
    try:
        await gw.start()
        if ready:
            r = ready(gw)
            if r is not None:
                await r
        await stop.wait()
    except StartupError as e:
        log.error(str(e))
        return 1
    finally:
        await gw.stop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    log.info("gateway stopped")
    return 0
