"""The alarm manager the hub drives: values and findings in, alarm events and views out.

It bounds floods (a dead line is one line alarm; many units with the same alarm are one
string alarm), publishes an Event on every transition, and says whether the general-alarm
dry contact must open.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gateway.core.alarms.book import Alarm, AlarmBook, Key
from gateway.core.alarms.conditions import HOLD, Checker, Demand, string_source, unit_comm_lost, unit_source
from gateway.core.alarms.kinds import FINDING_CODES, KINDS, level_rank
from gateway.core.alarms.settings import AlarmSettings
from gateway.core.alarms.thresholds import Limits, Thresholds, string_profiles
from gateway.core.clock import Clock
from gateway.core.commands import Actor, CommandResult
from gateway.core.events import Event, EventBus
from gateway.core.model import AlarmView, LineStats, StringView

_UNIT_CODES = frozenset(k.code for k in KINDS.values() if k.scope == "unit")
#: kinds only the engine's findings raise: a finding no longer reported means its cause is gone
FINDING_ONLY = frozenset(
    {
        "thermal_runaway",
        "equalization_error",
        "psoc_too_long",
        "weak_unit",
        "low_capacity",
        "ri_outlier",
        "unit_hot",
    }
)
_COMPUTED = frozenset(KINDS) - FINDING_ONLY
#: an engine finding that only repeats what another alarm of the same unit already says is held,
#: so one cause raises one alarm (a block whose Ri rose is also an Ri outlier; a hot block is off
#: the string's average temperature)
SUBSUMED_BY: dict[str, tuple[str, ...]] = {
    "ri_outlier": ("unit_ri_rise", "unit_ri_high"),
    "unit_hot": ("unit_temperature_deviation", "thermal_runaway"),
}


class AlarmManager:
    """All alarms of a site. The hub calls :meth:`evaluate` once per cycle."""

    def __init__(
        self, settings: AlarmSettings | dict[str, Any] | None, config: Any, events: EventBus, clock: Clock
    ) -> None:
        if not isinstance(settings, AlarmSettings):
            settings = AlarmSettings.model_validate(settings or {})
        self.settings = settings
        self.events = events
        self.clock = clock
        self.profiles = string_profiles(config)
        self.thresholds = Thresholds(settings, self.profiles)
        self.book = AlarmBook(self._emit, settings.require_ack, settings.max_unacknowledged)
        self.checker = Checker(
            self.thresholds, self.profiles, self.book.demand, settings.temperature_compensation
        )
        self._t = clock.now()
        self._unit_status: dict[tuple[int, int], str] = {}
        self.suppressed = 0  # raises refused because of the max_active bound

    # ------------------------------------------------------------------ events
    def _emit(self, state: str, a: Alarm, extra: dict[str, Any]) -> None:
        actor = extra.pop("actor", None)
        data = {"alarm_id": a.id, "value": a.value, **a.data, **extra}
        verb = {
            "raised": "raised",
            "cleared": "cleared",
            "acknowledged": f"acknowledged by {a.acked_by}",
            "changed": f"now {a.level}",
        }.get(state, state)
        self.events.publish(
            Event(
                time=self._t,
                kind="alarm",
                code=a.code,
                message=f"{a.message} — {verb}",
                level=a.level,
                source=a.source,
                state=state,
                actor=actor,
                data=data,
            )
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self,
        t: float,
        strings: tuple[StringView, ...],
        findings: Sequence[Any],
        lines: tuple[LineStats, ...],
        ambient_c: float | None,
        humidity_pct: float | None,
    ) -> None:
        """Compare this cycle's values against the limits and move every alarm on."""
        self._t = t
        demands: dict[Key, Demand] = {}
        for s in strings:
            for d in self.checker.units(s):
                demands[d.key] = d
            for d in self.checker.string(s):
                demands[d.key] = d
        for d in self.checker.site(ambient_c, humidity_pct):
            demands[d.key] = d
        self._fold_findings(findings, demands)
        self._hold_duplicates(demands)
        self._bound_lines(strings, lines, demands)
        self._bound_strings(strings, demands)
        self._feed(demands)
        self._unit_status = self._statuses()

    def _fold_findings(self, findings: Sequence[Any], demands: dict[Key, Demand]) -> None:
        seen: set[Key] = set()
        for item in findings:
            d = self._finding(item)
            if d is None:
                continue
            seen.add(d.key)
            old = demands.get(d.key)
            if old is None or old.level == HOLD or level_rank(d.level) > level_rank(old.level):
                demands[d.key] = d
        for key in self.book.tracked():  # a finding no longer reported: its cause is gone
            if key[0] not in _COMPUTED and key not in seen and key not in demands:
                demands[key] = Demand(key[0], key[1], None, self._limits(key[0], None, None))

    def _hold_duplicates(self, demands: dict[Key, Demand]) -> None:
        for (code, source), d in demands.items():
            covers = SUBSUMED_BY.get(code)
            if not covers or d.level in (None, HOLD):
                continue
            for other in covers:
                od = demands.get((other, source))
                if (od is not None and od.level in ("warning", "alarm")) or self.book.active((other, source)):
                    d.level = HOLD  # an alarm raised before the other one stays as it is
                    break

    def _limits(self, code: str, string: int | None, position: int | None) -> Limits:
        return self.thresholds.get(code, string, position) if code in KINDS else Limits()

    def _finding(self, item: Any) -> Demand | None:
        string = getattr(item, "string", None)
        if isinstance(item, tuple) and len(item) == 2:
            string, item = item
        code = getattr(item, "code", None)
        if not code:
            return None
        code = FINDING_CODES.get(code, code)
        unit = getattr(item, "unit", None)
        position = unit + 1 if unit is not None and string is not None else None
        if position is not None and string is not None:
            source = unit_source(string, position)
        else:
            source = string_source(string) if string is not None else "site"
        limits = self._limits(code, string, position)
        if not limits.enabled:
            return Demand(code, source, None, limits)
        level = getattr(item, "level", None) or limits.level
        d = Demand(
            code,
            source,
            level if level in ("warning", "alarm") else "warning",
            limits,
            getattr(item, "value", None),
            None,
            string,
            position,
        )
        msg = getattr(item, "message", "")
        if msg:
            d.data["finding"] = msg
        return d

    def _bound_lines(
        self, strings: tuple[StringView, ...], lines: tuple[LineStats, ...], demands: dict[Key, Demand]
    ) -> None:
        """A line whose monitors stop answering together is one line alarm, not one per unit."""
        per_bus: dict[str, list[Demand]] = {}
        lost: dict[str, int] = {}
        for s in strings:
            for u in s.units:
                d = demands.get(("unit_comm_lost", unit_source(s.index, u.position)))
                if d is None:
                    continue
                per_bus.setdefault(u.bus, []).append(d)
                lost[u.bus] = lost.get(u.bus, 0) + unit_comm_lost(u)
        flood = self.settings.flood
        for line in lines:
            src = f"lines[{line.name}]"
            limits = self.thresholds.get("line_comm_lost")
            n = len(per_bus.get(line.name, ()))
            many = n >= 2 and lost.get(line.name, 0) >= max(2, math.ceil(flood.line_fraction * n))
            down = line.state == "down" or many
            d = Checker._flag("line_comm_lost", src, down, limits, bus=line.name)
            d.data["units_comm_lost"] = lost.get(line.name, 0)
            demands[d.key] = d
            if d.level not in (None, HOLD) or self.book.active(d.key):
                for ud in per_bus.get(line.name, ()):
                    ud.level = HOLD  # the line alarm says it; its units stay as they are

    def _bound_strings(self, strings: tuple[StringView, ...], demands: dict[Key, Demand]) -> None:
        """Many units of a string with the same alarm are one string alarm listing them."""
        flood = self.settings.flood
        for s in strings:
            n = len(s.units)
            need = max(flood.min_units, math.ceil(flood.string_fraction * n))
            groups: dict[str, list[Demand]] = {}
            for u in s.units:
                src = unit_source(s.index, u.position)
                for code in _UNIT_CODES:
                    d = demands.get((code, src))
                    if d is not None and d.level in ("warning", "alarm"):
                        groups.setdefault(code, []).append(d)
            for code in _UNIT_CODES:
                members = groups.get(code, [])
                key = (code, string_source(s.index))
                was = self.book.demand(key) is not None
                if len(members) >= need or (was and members and len(members) >= max(1, need // 2)):
                    demands[key] = self._aggregate(code, s, members)
                    for d in members:
                        d.level = HOLD
                elif was and key not in demands:
                    demands[key] = Demand(
                        code, key[1], None, self.thresholds.get(code, s.index), string=s.index
                    )

    def _aggregate(self, code: str, s: StringView, members: list[Demand]) -> Demand:
        values = [d.value for d in members if d.value is not None]
        value = None
        if values:
            value = min(values) if KINDS[code].direction == "low" else max(values)
        worst = max(members, key=lambda d: level_rank(d.level))
        d = Demand(
            code,
            string_source(s.index),
            worst.level,
            self.thresholds.get(code, s.index),
            value,
            worst.limit,
            s.index,
        )
        d.data["units"] = sorted(m.position for m in members if m.position is not None)
        d.data["of"] = len(s.units)
        return d

    def _feed(self, demands: dict[Key, Demand]) -> None:
        t = self._t
        active = len(self.book.active_alarms())
        cap = self.settings.flood.max_active
        refused = 0
        for key, d in demands.items():
            if d.level == HOLD:
                self.book.hold(key)
                continue
            if d.level is not None and self.book.active(key) is None and active >= cap:
                refused += 1
                self.book.hold(key)
                continue
            msg = d.message()
            if d.data.get("units"):
                msg = f"{msg} — {len(d.data['units'])} of {d.data['of']} units"
            self.book.update(key, d.level, t, d.limits, value=d.value, message=msg, data=dict(d.data))
            if d.level is not None and self.book.active(key) is not None and key[0] != "alarm_flood":
                active = len(self.book.active_alarms())
        self.suppressed += refused
        flood = Demand(
            "alarm_flood", "site", "warning" if refused else None, self.thresholds.get("alarm_flood")
        )
        self.book.update(
            flood.key,
            flood.level,
            t,
            flood.limits,
            value=float(refused) if refused else None,
            message=f"Alarm flood: {refused} alarms not raised (over {cap} active)",
        )

    def _statuses(self) -> dict[tuple[int, int], str]:
        out: dict[tuple[int, int], str] = {}
        for a in self.book.active_alarms():
            if not a.source.startswith("strings["):
                continue
            head, _, rest = a.source.partition("].units[")
            string = int(head[len("strings[") :].rstrip("]"))
            positions = [int(rest.rstrip("]")) + 1] if rest else a.data.get("units", [])
            for p in positions:
                if level_rank(a.level) > level_rank(out.get((string, p))):
                    out[(string, p)] = a.level
        return out

    # ------------------------------------------------------------------ commands
    def ack(self, alarm_id: int, actor: Actor) -> CommandResult:
        """Acknowledge one alarm (operator role)."""
        if not actor.may("operator"):
            return CommandResult(False, "acknowledging alarms needs the operator role")
        self._t = self.clock.now()
        a = self.book.ack(int(alarm_id), actor, self._t)
        if a is None:
            return CommandResult(False, f"no alarm {alarm_id} to acknowledge")
        self._unit_status = self._statuses()
        return CommandResult(True, f"alarm {alarm_id} acknowledged", {"alarm_id": a.id, "active": a.active})

    def set_threshold(self, key: str, value: float, actor: Actor) -> CommandResult:
        """Change one limit at run time (admin role), e.g. ``strings[0].unit_voltage_high.alarm``."""
        if not actor.may("admin"):
            return CommandResult(False, "changing thresholds needs the admin role")
        try:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError("value must be a finite number")
            previous = self.thresholds.runtime.get(key)
            key = self.thresholds.set(key, value)
        except (ValueError, TypeError) as e:
            return CommandResult(False, str(e))
        self.events.publish(
            Event(
                time=self.clock.now(),
                kind="config",
                code="set_threshold",
                message=f"{key} set to {value:g} by {actor.user}",
                actor=actor,
                data={"key": key, "value": value, "previous": previous},
            )
        )
        return CommandResult(True, f"{key} = {value:g}", {"key": key, "value": value})

    # ------------------------------------------------------------------ outputs
    def views(self) -> tuple[AlarmView, ...]:
        """Active and not-yet-acknowledged alarms, for the snapshot."""
        return tuple(a.view() for a in self.book.alarms())

    def unit_status(self, string: int, position: int) -> str:
        """``"alarm"``, ``"warning"`` or ``"ok"`` by the unit's worst active alarm."""
        return self._unit_status.get((string, position)) or "ok"

    def general_alarm(self) -> bool:
        """True while an alarm at or above the relay level is active (latched ones too)."""
        need = level_rank(self.settings.relay.level)
        return any(level_rank(a.level) >= need for a in self.book.active_alarms())

    def any_active(self, code: str) -> bool:
        """True while an alarm of this kind is active anywhere, latched ones too (actions such as
        the thermal-runaway charger trip hold until the alarm is acknowledged, not just until the
        symptom fades — a tripped charger itself stops the rising float current)."""
        return any(a.code == code for a in self.book.active_alarms())

    def relay_energized(self) -> bool:
        """The dry contact is normally closed: energized (closed) only while all is well, so a
        general alarm, a dead gateway and a power loss all open it."""
        return not self.general_alarm()

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        return {"version": 1, "book": self.book.state_dict(), "thresholds": dict(self.thresholds.runtime)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in (state.get("thresholds") or {}).items():
            try:
                self.thresholds.set(key, value)
            except ValueError:
                continue  # a threshold of a string that no longer exists
        self.book.load_state_dict(state.get("book") or {})
        self._unit_status = self._statuses()
