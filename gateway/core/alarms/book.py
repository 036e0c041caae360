"""The alarm book: each (kind, place) walks pending → active → cleared, with delays, latching, ack.

It is told every cycle which level each condition demands now, and reports transitions
(raised, changed, cleared, acknowledged) to a callback; it knows nothing of batteries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.core.alarms.kinds import level_rank
from gateway.core.alarms.thresholds import Limits
from gateway.core.commands import Actor
from gateway.core.model import AlarmView

Key = tuple[str, str]  # (code, source)


@dataclass
class Alarm:
    """One raised alarm, from raised to cleared-and-acknowledged."""

    id: int
    code: str
    source: str
    level: str
    message: str
    raised_at: float
    value: float | None = None
    active: bool = True
    condition: bool = True  # its cause is present now (False: latched after the cause left)
    latching: bool = False
    cleared_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def view(self) -> AlarmView:
        return AlarmView(
            id=self.id,
            code=self.code,
            level=self.level,
            source=self.source,
            message=self.message,
            raised_at=self.raised_at,
            cleared_at=self.cleared_at,
            acked_by=self.acked_by,
            acked_at=self.acked_at,
            value=self.value,
        )


@dataclass
class _Tracker:
    since_warning: float | None = None  # demanded at least warning since then
    since_alarm: float | None = None
    lower_since: float | None = None  # demanded less than the active level since then
    demand: str | None = None  # last demanded level (hysteresis needs it)
    alarm: Alarm | None = None  # the active alarm of this key


Emit = Callable[[str, Alarm, dict[str, Any]], None]


class AlarmBook:
    """All alarm state; ``emit(state, alarm, extra)`` is called on every transition."""

    def __init__(self, emit: Emit, require_ack: bool = True, max_unacknowledged: int = 1000) -> None:
        self.emit = emit
        self.require_ack = require_ack
        self.max_unacknowledged = max_unacknowledged
        self._trackers: dict[Key, _Tracker] = {}
        self._alarms: dict[int, Alarm] = {}  # active, or cleared but not acknowledged
        self._next_id = 1

    # --------------------------------------------------------------- queries
    def demand(self, key: Key) -> str | None:
        """The level demanded last cycle (for hysteresis)."""
        tr = self._trackers.get(key)
        return tr.demand if tr else None

    def active(self, key: Key) -> Alarm | None:
        tr = self._trackers.get(key)
        return tr.alarm if tr else None

    def alarms(self) -> list[Alarm]:
        """Active and unacknowledged alarms, oldest first."""
        return sorted(self._alarms.values(), key=lambda a: a.id)

    def active_alarms(self) -> list[Alarm]:
        return [a for a in self._alarms.values() if a.active]

    def tracked(self) -> list[Key]:
        return list(self._trackers)

    # --------------------------------------------------------------- updates
    def hold(self, key: Key) -> None:
        """No decision possible this cycle (data unknown, or folded into a bigger alarm)."""
        tr = self._trackers.get(key)
        if tr:
            tr.since_warning = tr.since_alarm = tr.lower_since = None

    def update(
        self,
        key: Key,
        level: str | None,
        t: float,
        limits: Limits,
        *,
        value: float | None = None,
        message: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Feed the level the condition demands now (None: inside limits)."""
        tr = self._trackers.get(key)
        if tr is None:
            if level is None:
                return  # the common case: nothing wrong and never was
            tr = self._trackers[key] = _Tracker()
        tr.demand = level
        rank = level_rank(level)
        tr.since_warning = (tr.since_warning if tr.since_warning is not None else t) if rank >= 1 else None
        tr.since_alarm = (tr.since_alarm if tr.since_alarm is not None else t) if rank >= 2 else None
        target = None
        if tr.since_alarm is not None and t - tr.since_alarm >= limits.delay_s:
            target = "alarm"
        elif tr.since_warning is not None and t - tr.since_warning >= limits.delay_s:
            target = "warning"
        # the pending level while waiting for the delay does not lower an active alarm
        if level is not None and target is None and tr.alarm is not None:
            target = level if level_rank(level) <= level_rank(tr.alarm.level) else tr.alarm.level
        a = tr.alarm
        if a is None:
            if target is not None:
                tr.alarm = self._raise(key, target, t, limits, value, message, data or {})
            elif tr.since_warning is None:
                del self._trackers[key]
            return
        a.value = value if value is not None else a.value
        if level is not None:
            a.message = message or a.message
        if level_rank(target) > level_rank(a.level):
            previous = a.level
            a.level, a.condition, a.acked_by, a.acked_at = target or "alarm", True, None, None
            tr.lower_since = None
            self.emit("raised", a, {"previous_level": previous})
            return
        if level_rank(target) == level_rank(a.level):
            tr.lower_since = None
            if not a.condition:  # the cause came back while latched
                a.condition = True
            return
        if tr.lower_since is None:
            tr.lower_since = t
        if t - tr.lower_since < limits.clear_delay_s:
            return
        tr.lower_since = None
        if target is None:
            self._cause_gone(key, tr, a, t)
        elif not a.latching:
            previous = a.level
            a.level = target
            self.emit("changed", a, {"previous_level": previous})

    def _raise(
        self,
        key: Key,
        level: str,
        t: float,
        limits: Limits,
        value: float | None,
        message: str,
        data: dict[str, Any],
    ) -> Alarm:
        a = Alarm(
            self._next_id, key[0], key[1], level, message, t, value, latching=limits.latching, data=data
        )
        self._next_id += 1
        self._alarms[a.id] = a
        self.emit("raised", a, {})
        return a

    def _cause_gone(self, key: Key, tr: _Tracker, a: Alarm, t: float) -> None:
        a.condition = False
        if a.latching and a.acked_at is None:
            return  # stays active until acknowledged
        self._clear(a, t)
        tr.alarm = None
        if tr.since_warning is None:
            self._trackers.pop(key, None)

    def _clear(self, a: Alarm, t: float) -> None:
        a.active, a.cleared_at = False, t
        self.emit("cleared", a, {})
        if a.acked_at is not None or not self.require_ack:
            self._alarms.pop(a.id, None)
        self._bound_unacknowledged()

    def _bound_unacknowledged(self) -> None:
        cleared = [a for a in self._alarms.values() if not a.active]
        for a in sorted(cleared, key=lambda a: a.id)[: max(0, len(cleared) - self.max_unacknowledged)]:
            self._alarms.pop(a.id, None)

    def ack(self, alarm_id: int, actor: Actor, t: float) -> Alarm | None:
        """Acknowledge one alarm; a latched alarm whose cause is gone clears now."""
        a = self._alarms.get(alarm_id)
        if a is None:
            return None
        if a.acked_at is None:
            a.acked_by, a.acked_at = actor.user, t
            self.emit("acknowledged", a, {"actor": actor})
        if not a.active:
            self._alarms.pop(a.id, None)
        elif not a.condition:
            tr = self._trackers.get((a.code, a.source))
            if tr is not None and tr.alarm is a:
                self._cause_gone((a.code, a.source), tr, a, t)
        return a

    # --------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        return {"next_id": self._next_id, "alarms": [asdict(a) for a in self.alarms()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._next_id = max(self._next_id, int(state.get("next_id", 1)))
        for d in state.get("alarms", []):
            a = Alarm(**d)
            self._alarms[a.id] = a
            self._next_id = max(self._next_id, a.id + 1)
            if a.active:
                tr = self._trackers.setdefault((a.code, a.source), _Tracker())
                tr.alarm, tr.demand = a, a.level
