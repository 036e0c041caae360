"""The addressing wizard of a running gateway: new monitors get ids while the line keeps polling.

It borrows the line from its bus master for one short exchange at a time (the steps of
``tools.py``) and reports progress as ``monitor`` events ``wizard_*``; the hub starts and
stops it on the ``wizard_start``/``wizard_stop`` commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gateway.core.bus.driver import Identity
from gateway.core.bus.master import BusMaster
from gateway.core.bus.rtu import LineDown
from gateway.core.bus.tools import TwoInLearnMode, identify, model_name, offer_address, read_identity
from gateway.core.clock import Clock
from gateway.core.commands import CommandResult
from gateway.core.events import Event, EventBus
from gateway.core.logging import get_logger

log = get_logger("gateway.bus.wizard")

FIRST_ADDRESS, LAST_ADDRESS = 1, 246  # 247 is where factory-fresh devices answer
WAIT_S = 300.0  # the wizard ends when nobody presses a button for this long (real time)
ATTEMPT_EVERY_S = 0.5  # how often the address is offered at 247 (real time)
IDENTIFY_S = 10  # the new device's LED blinks this long: the installer sees which one it was


@dataclass(frozen=True)
class Assigned:
    """A device the wizard gave an id to."""

    address: int
    serial: int
    model: str
    firmware: str
    channels: int
    configured: bool  # the config binds a device at this address on this line: it is polled now


class AddressingSession:
    """Gives ``start``, ``start + 1``, ... to devices in learn mode on one line, one at a time.

    Times are real time: a person walks to the next monitor and presses its button. Only
    one device may be in learn mode at once; if two are, both are reset and the session
    says so, then goes on waiting. A device at an address the config does not bind to the
    line is reported, not polled: the config stays the truth, and the ``stopped`` event
    says which ``units`` entry would cover the new devices.
    """

    def __init__(
        self,
        master: BusMaster,
        start_address: int,
        events: EventBus,
        clock: Clock,
        *,
        model_names: Mapping[int, str] | None = None,
        wait_s: float = WAIT_S,
        attempt_every_s: float = ATTEMPT_EVERY_S,
        identify_s: int = IDENTIFY_S,
    ) -> None:
        if not FIRST_ADDRESS <= start_address <= LAST_ADDRESS:
            raise ValueError(f"start address {start_address} is outside {FIRST_ADDRESS}–{LAST_ADDRESS}")
        self.master = master
        self.line = master.name
        self.start_address = start_address
        self.next_address = start_address
        self.events = events
        self.clock = clock
        self.names = dict(model_names if model_names is not None else master.known_models)
        self.wait_s = wait_s
        self.attempt_every_s = attempt_every_s
        self.identify_s = identify_s
        self.assigned: list[Assigned] = []
        self.state = "new"  # new → waiting → stopped
        self.stop_reason = ""
        self._stop_requested = asyncio.Event()
        self._requested_reason = "stopped by request"
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        self.state = "waiting"
        self._task = asyncio.create_task(self._run(), name=f"wizard-{self.line}")

    def request_stop(self, reason: str = "stopped by request") -> None:
        """Ask the session to end after its current exchange (from synchronous code)."""
        self._requested_reason = reason
        self._stop_requested.set()

    async def stop(self, reason: str = "stopped by request") -> None:
        """End the session and wait until it released the line."""
        self.request_stop(reason)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "state": self.state,
            "start": self.start_address,
            "next_address": self.next_address,
            "assigned": [asdict(a) for a in self.assigned],
            "reason": self.stop_reason,
            "config_hint": config_hint(self.line, self.assigned),
        }

    # ------------------------------------------------------------------ the task
    async def _run(self) -> None:
        reason, level = "stopped by request", "info"
        try:
            reason, level = await self._assign_until_done()
        except asyncio.CancelledError:
            reason, level = "cancelled (the gateway is stopping)", "info"
            raise
        except Exception as e:  # a bug must end the session loudly, never the gateway
            log.exception("addressing wizard failed", line=self.line)
            reason, level = f"failed: {e}", "warning"
        finally:
            self.state, self.stop_reason = "stopped", reason
            self._publish("wizard_stopped", f"addressing wizard on {self.line} ended: {reason}", level)

    async def _assign_until_done(self) -> tuple[str, str]:
        self._publish_waiting()
        last_activity = time.monotonic()
        check_free = True
        while not self._stop_requested.is_set():
            if self.next_address > LAST_ADDRESS:
                return f"no addresses left ({LAST_ADDRESS} is the last)", "info"
            if time.monotonic() - last_activity > self.wait_s:
                return f"no button was pressed for {self.wait_s:.0f} s", "info"
            try:
                async with self.master.exclusive() as rtu:
                    if check_free:
                        taken = await read_identity(rtu, self.next_address)
                        if taken is not None:
                            return self._taken_reason(taken), "warning"
                        check_free = False
                    ident = await offer_address(rtu, self.next_address)
                    if ident is not None:
                        await identify(rtu, self.next_address, self.identify_s)
            except TwoInLearnMode as e:
                last_activity = time.monotonic()
                self._publish("wizard_two_in_learn_mode", str(e), "warning")
                ident = None
            except LineDown:
                ident = None  # the master reports the line; the wizard waits for it to come back
            if ident is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_requested.wait(), self.attempt_every_s)
                continue
            last_activity = time.monotonic()
            self._record(ident)
            check_free = True
            self._publish_waiting()
        return self._requested_reason, "info"

    def _record(self, ident: Identity) -> None:
        a = Assigned(
            address=self.next_address,
            serial=ident.serial,
            model=model_name(self.names, ident),
            firmware=ident.firmware_text,
            channels=ident.channels,
            configured=self.next_address in self.master.units,
        )
        self.assigned.append(a)
        self.next_address += 1
        where = "polled from now on" if a.configured else "not in the config yet, so not polled"
        self._publish(
            "wizard_assigned",
            f"{self.line}: address {a.address} given to {a.model} serial {a.serial} ({where}); "
            f"its LED blinks for {self.identify_s} s",
            "info",
            asdict(a),
        )

    def _taken_reason(self, taken: Identity) -> str:
        return (
            f"address {self.next_address} is already used by {model_name(self.names, taken)} serial "
            f"{taken.serial}; start again at a free address"
        )

    def _publish_waiting(self) -> None:
        self._publish(
            "wizard_waiting",
            f"{self.line}: press the address button of the next monitor for 1 s "
            f"(it gets address {self.next_address})",
            "info",
        )

    def _publish(self, code: str, message: str, level: str, extra: dict[str, Any] | None = None) -> None:
        data = self.to_json()
        if extra:
            data.update(extra)
        self.events.publish(
            Event(
                time=self.clock.now(),
                kind="monitor",
                code=code,
                message=message,
                level=level,
                source=f"lines[{self.line}]",
                data=data,
            )
        )


def config_hint(line: str, assigned: list[Assigned]) -> list[str]:
    """``units`` entries (YAML flow style) that would bind the devices the config lacks.

    Runs of consecutive addresses of one model become one entry; ``count`` counts
    channels, as ``strings[].units.count`` does.
    """
    hints: list[str] = []
    run: list[Assigned] = []
    for a in sorted((a for a in assigned if not a.configured), key=lambda a: a.address):
        if run and (a.address != run[-1].address + 1 or a.model != run[-1].model):
            hints.append(_units_entry(line, run))
            run = []
        run.append(a)
    if run:
        hints.append(_units_entry(line, run))
    return hints


def _units_entry(line: str, run: list[Assigned]) -> str:
    count = sum(max(1, a.channels) for a in run)
    return f"units: {{model: {run[0].model}, count: {count}, bus: {line}, first_address: {run[0].address}}}"


class Wizards:
    """At most one addressing session per line; the hub's handlers for the wizard commands."""

    def __init__(self, masters: Mapping[str, BusMaster], events: EventBus, clock: Clock) -> None:
        self.masters = masters
        self.events = events
        self.clock = clock
        self.sessions: dict[str, AddressingSession] = {}

    def start(self, line: str, start: int, **session_options: Any) -> CommandResult:
        """``wizard_start {line, start}``: start a session (refused while one runs on the line)."""
        master = self.masters.get(line)
        if master is None:
            return CommandResult(False, f"no line {line!r} (lines: {', '.join(self.masters) or 'none'})")
        current = self.sessions.get(line)
        if current is not None and current.running:
            return CommandResult(False, f"the addressing wizard already runs on {line}")
        try:
            session = AddressingSession(master, start, self.events, self.clock, **session_options)
        except ValueError as e:
            return CommandResult(False, str(e))
        self.sessions[line] = session
        session.start()
        return CommandResult(True, f"addressing wizard started on {line} at address {start}")

    def stop(self, line: str) -> CommandResult:
        """``wizard_stop {line}``: end the line's session after its current exchange."""
        if line not in self.masters:
            return CommandResult(False, f"no line {line!r}")
        session = self.sessions.get(line)
        if session is None or not session.running:
            return CommandResult(False, f"the addressing wizard does not run on {line}")
        session.request_stop()
        return CommandResult(True, f"addressing wizard on {line} stopping")

    def state(self) -> dict[str, Any]:
        return {name: s.to_json() for name, s in self.sessions.items()}

    async def close(self) -> None:
        """Stop every session (before the masters stop: sessions borrow their lines)."""
        for session in list(self.sessions.values()):
            await session.stop("the gateway is stopping")
