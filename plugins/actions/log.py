"""The ``log`` action: one structured log line per matching event."""

from __future__ import annotations

from gateway.core.events import Event
from gateway.core.logging import get_logger
from plugins.actions.base import EventAction

log = get_logger("cellgate.events")

_METHOD = {"info": "info", "warning": "warning", "alarm": "error"}


class LogAction(EventAction):
    """Writes matching events to the gateway's log (console or JSON lines)."""

    summary = "log each matching event"

    async def handle(self, event: Event) -> None:
        fields = {
            "id": event.id,
            "kind": event.kind,
            "code": event.code,
            "source": event.source,
            "state": event.state,
            "event_time": event.time,
        }
        if event.actor is not None:
            fields["user"], fields["via"] = event.actor.user, event.actor.via
        getattr(log, _METHOD.get(event.level, "info"))(event.message, **fields)
