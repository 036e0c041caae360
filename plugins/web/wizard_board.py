"""What the web shows of the addressing wizards: each line's session, folded from its events.

The wizard runs in the engine (``gateway/core/bus/wizard.py``) and reports every step as a
``monitor`` event ``wizard_*``; the web never asks the bus, it remembers what it was told.
"""

from __future__ import annotations

from typing import Any

from gateway.core.events import Event

WIZARD_CODES = ("wizard_waiting", "wizard_assigned", "wizard_two_in_learn_mode", "wizard_stopped")


def is_wizard_event(event: Event) -> bool:
    return event.kind == "monitor" and event.code in WIZARD_CODES


class WizardBoard:
    """The latest state of each line's addressing session, as its events described it."""

    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}

    def observe(self, event: Event) -> None:
        if not is_wizard_event(event):
            return
        line = str(event.data.get("line", ""))
        if not line:
            return
        # every event carries the whole session (state, next address, assigned, hint)
        keys = ("state", "start", "next_address", "assigned", "reason", "config_hint")
        session = {k: event.data.get(k) for k in keys}
        session["line"] = line
        session["last"] = {
            "code": event.code,
            "message": event.message,
            "level": event.level,
            "time": event.time,
        }
        self._sessions[line] = session

    def sessions(self) -> dict[str, dict[str, Any]]:
        return dict(self._sessions)
