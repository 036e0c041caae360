"""The kinds of component a plugin can hand to the core, and what the core gives them.

A plugin registers *classes* (see ``gateway/hookspecs.py``); the YAML file creates
*instances*. Every class carries its own pydantic ``Config`` model, which the core uses
to validate its part of the file before anything starts. The core then calls
``start()`` in order and ``stop()`` in reverse order.
"""

from __future__ import annotations

import abc
import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from gateway.core.clock import Clock
from gateway.core.commands import Actor, CommandQueue
from gateway.core.model import EMPTY_SNAPSHOT, Snapshot

if TYPE_CHECKING:
    from gateway.core.events import Event, EventBus


class HistoryReader(Protocol):
    """What the history store offers readers (web API, CLI exports)."""

    async def events(
        self,
        *,
        since_id: int = 0,
        t_from: float | None = None,
        t_to: float | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Persisted events, oldest first."""

    async def series(
        self,
        source: str,
        fields: list[str],
        t_from: float,
        t_to: float,
        resolution: str = "auto",
    ) -> dict[str, list[Any]]:
        """Samples of ``fields`` of ``source`` (``"strings[0].units[3]"``, ``"strings[0]"``, ``"site"``)
        between two times: ``{"t": [...], "voltage_v": [...], ...}``; ``resolution`` is
        ``"raw"``, ``"1m"``, ``"1h"`` or ``"auto"`` (the coarsest that still gives enough points)."""


class ComponentConfig(BaseModel):
    """Base of every component's config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class EmptyConfig(ComponentConfig):
    """For components that take no settings."""


@dataclass
class GatewayContext:
    """What the core lends a component: time, the latest snapshot, the command queue,
    the event bus, the folders it may use, and the authenticator chain."""

    clock: Clock
    commands: CommandQueue
    events: EventBus
    config_dir: Path
    data_dir: Path
    snapshot_source: Callable[[], Snapshot] = lambda: EMPTY_SNAPSHOT
    config: Any = None  # the validated root config (gateway.core.config.GatewayConfig)
    #: ``await ctx.authenticate(user, password, source, via)`` -> Actor | None: the authenticator chain
    authenticate: Callable[..., Any] | None = None
    #: the history store's read side (see :class:`HistoryReader`), None when no history is kept
    history: HistoryReader | None = None

    def snapshot(self) -> Snapshot:
        """The latest published snapshot (never blocks)."""
        return self.snapshot_source()

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.config_dir / p).resolve()


class Component(abc.ABC):  # noqa: B024 - abstract by intent: never instantiated bare
    """Base of every registered component: configured once, started, stopped."""

    Config: ClassVar[type[ComponentConfig]] = EmptyConfig
    #: one line shown by ``cellgate plugins`` and in the JSON Schema
    summary: ClassVar[str] = ""

    def __init__(self, config: ComponentConfig, ctx: GatewayContext) -> None:
        self.config = config
        self.ctx = ctx

    async def start(self) -> None:  # noqa: B027 - optional: components without I/O skip it
        """Open sockets, start tasks. Raise to refuse to start (the gateway stops)."""

    async def stop(self) -> None:  # noqa: B027
        """Close everything start() opened; must not raise."""


class Transport(Component):
    """A byte stream to one RS-485 line (serial device, TCP converter, simulator).

    Registered by URL scheme; ``Config`` holds the line's transport options.
    """

    def __init__(self, url: str, config: ComponentConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.url = url

    @abc.abstractmethod
    async def open(self) -> None:
        """Open the line; raise ``OSError`` if it is not there (the master retries)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the line; idempotent."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Send one frame; returns when it has left (or been queued to) the wire."""

    @abc.abstractmethod
    async def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, returning what arrived within ``timeout`` seconds."""

    def reset_input(self) -> None:
        """Discard bytes already received (before a new request)."""

    @property
    def char_time_s(self) -> float:
        """Time of one 11-bit character on the wire (0 where the link has no baud timing)."""
        return 0.0

    async def start(self) -> None:
        await self.open()

    async def stop(self) -> None:
        await self.close()


class Service(Component):
    """A northbound service (web, SNMP, Modbus, ...): serves snapshots, submits commands."""


class Authenticator(Component):
    """One link of the authenticator chain (local users, RADIUS, ...)."""

    @abc.abstractmethod
    async def authenticate(self, user: str, password: str, source: str) -> Actor | None:
        """The actor for valid credentials, ``None`` to let the next authenticator try.

        Raise :class:`AuthenticationRejected` to stop the chain (the user is known here
        and the password is wrong).
        """


class AuthenticationRejected(Exception):
    """Credentials refused by an authenticator that owns the user."""


class AlarmAction(Component):
    """Something done when an event happens: log it, send a trap, mail, run a command."""

    @abc.abstractmethod
    async def handle(self, event: Any) -> None:
        """Act on one event (``gateway.core.events.Event``). Must not block the loop."""


class HistorySink(Component):
    """Somewhere samples and events are kept (SQLite by default, PostgreSQL...)."""

    @abc.abstractmethod
    async def write(self, snapshot: Snapshot) -> None:
        """Record one published snapshot. Must not block the loop."""


class CliCommand(abc.ABC):
    """A ``cellgate`` subcommand a plugin adds (``cellgate NAME ...``)."""

    name: ClassVar[str]
    help: ClassVar[str]

    @abc.abstractmethod
    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's arguments."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Run it; the return value is the exit status."""


class MonitorDriver(abc.ABC):
    """Decodes one monitor model's registers into the canonical model, encodes its commands.

    Registered by model name (``"C20"``); ``code`` is the MODEL register value that
    identifies it on the bus. ``kind`` is ``"block"`` (battery monitor), ``"current"``,
    ``"ambient"``, ``"io"`` or ``"generic"``.
    """

    model: ClassVar[str]
    code: ClassVar[int]
    kind: ClassVar[str] = "block"
    channels: ClassVar[int] = 1
    Config: ClassVar[type[ComponentConfig]] = EmptyConfig
    summary: ClassVar[str] = ""
