"""One queue into the engine: every change of state arrives here, saying who asked for it.

Northbound services, the web UI and the CLI never change state themselves; they submit a
:class:`Command` and await its :class:`CommandResult`. The engine, the one writer, runs
commands between cycles, after checking the actor's role.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent a command, and from where: every write names one."""

    user: str  # user name, "modbus-client", "system", ...
    role: str  # "viewer" | "operator" | "admin" | "system"
    source: str = ""  # remote address, "console", "scenario"
    via: str = ""  # the service: "web", "modbus", "snmp", "cli"

    def may(self, needed: str) -> bool:
        """True when this actor's role is at least ``needed``."""
        if self.role == "system":
            return True
        if self.role not in ROLES or needed not in ROLES:
            return False
        return ROLES.index(self.role) >= ROLES.index(needed)


SYSTEM = Actor(user="system", role="system", source="gateway", via="core")


@dataclass(frozen=True, slots=True)
class Command:
    """A request to change state: ``kind`` names the handler, ``args`` its arguments."""

    kind: str
    args: dict[str, Any]
    actor: Actor


@dataclass(frozen=True, slots=True)
class CommandResult:
    ok: bool
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class CommandRejected(Exception):
    """A command the engine refused (unknown kind, bad argument, insufficient role)."""


class CommandQueue:
    """A bounded FIFO of commands, each with the future its sender awaits."""

    def __init__(self, maxsize: int = 1000) -> None:
        self._q: asyncio.Queue[tuple[Command, asyncio.Future[CommandResult]]] = asyncio.Queue(maxsize)

    async def submit(self, command: Command, timeout: float = 10.0) -> CommandResult:
        """Queue ``command`` and wait for the engine's answer."""
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        await self._q.put((command, fut))
        return await asyncio.wait_for(fut, timeout)

    async def get(self) -> tuple[Command, asyncio.Future[CommandResult]]:
        """The next command, waiting for one (test doubles of the engine consume this way)."""
        return await self._q.get()

    def drain(self) -> list[tuple[Command, asyncio.Future[CommandResult]]]:
        """Everything queued now, for the engine to run between cycles."""
        items = []
        while True:
            try:
                items.append(self._q.get_nowait())
            except asyncio.QueueEmpty:
                return items


#: The command kinds the engine understands, with their arguments and the role they need.
#: Northbound services translate their protocol's writes into these and nothing else.
COMMAND_KINDS: dict[str, tuple[str, str]] = {
    "ack_alarm": ("operator", "alarm_id: int — acknowledge one alarm"),
    "set_equalization": ("operator", "enabled: bool, string: int | None (None = every string)"),
    "set_threshold": ("admin", "key: str (alarm setting path, e.g. 'unit_voltage_high.alarm'), value: float"),
    "set_relay": ("admin", "relay: int, on: bool — drive an AUX relay by hand"),
    "request_ri": ("operator", "string: int, position: int — measure one unit's Ri now"),
    "set_ri_baseline": (
        "admin",
        "string: int, position: int | None, ri_ohm: float | None (None = current Ri)",
    ),
    "wizard_start": (
        "admin",
        "line: str, start: int (1–246) — address new monitors on a line, one button at a time",
    ),
    "wizard_stop": ("admin", "line: str — end the line's addressing wizard"),
}
