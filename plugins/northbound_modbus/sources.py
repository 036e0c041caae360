"""Source paths of a register map (``strings[0].units[3].voltage_v``): parsing and the fields they name.

A path names one number of the snapshot: a site field, a string field, a unit field, an
alarm summary or a threshold. Flag words and codes are documented in the plugin's README.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.core.model import AlarmView, Quality, Snapshot, StringMode, StringView, UnitView

#: qualities whose values are not current: the registers carry the "no data" value instead
NO_DATA_QUALITIES = frozenset({Quality.COMM_LOST, Quality.NO_DATA})

UNIT_STATUS_CODES = {"ok": 0, "warning": 1, "alarm": 2, "comm_lost": 3}
UNIT_STATUS_OTHER = 15
QUALITY_CODES = {
    Quality.GOOD: 0,
    Quality.STALE: 1,
    Quality.COMM_LOST: 2,
    Quality.OUT_OF_RANGE: 3,
    Quality.NO_DATA: 4,
}
MODE_CODES = {
    StringMode.FLOAT: 0,
    StringMode.CHARGE: 1,
    StringMode.DISCHARGE: 2,
    StringMode.REST: 3,
    StringMode.UNKNOWN: 4,
}

#: alarm-flag bits (site.alarm_flags / site.warning_flags / strings[i].alarm_flags): bit → code fragments
ALARM_CATEGORY_BITS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (2, ("voltage_high", "overvoltage")),
    (3, ("voltage_low", "undervoltage")),
    (4, ("temperature", "thermal")),
    (5, ("ri_",)),
    (6, ("soh", "capacity", "weak")),
    (7, ("comm", "line_", "identity")),
    (8, ("ripple",)),
    (9, ("current", "discharge")),
    (10, ("spread", "deviation", "imbalance", "equaliz")),
)
ALARM_OTHER_BIT = 15

NAN = math.nan


def num(value: Any) -> float:
    """A snapshot value as a float; ``None`` (not measured) becomes NaN, the "no data" marker."""
    if value is None:
        return NAN
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


# --------------------------------------------------------------------------- unit fields
def _unit_flags(u: UnitView) -> float:
    status = u.status
    bits = 0
    if u.quality in NO_DATA_QUALITIES:
        bits |= 1 << 0
    if u.quality is Quality.STALE:
        bits |= 1 << 1
    if u.quality is Quality.OUT_OF_RANGE:
        bits |= 1 << 2
    if status == "warning":
        bits |= 1 << 3
    if status == "alarm":
        bits |= 1 << 4
    if u.psoc:
        bits |= 1 << 5
    if u.equalize_duty > 0:
        bits |= 1 << 6
    if u.quality is Quality.COMM_LOST or status == "comm_lost":
        bits |= 1 << 7
    return float(bits)


def _ri_ratio(u: UnitView) -> float:
    if u.ri_ohm is None or not u.ri_baseline_ohm:
        return NAN
    return u.ri_ohm / u.ri_baseline_ohm


#: unit field → (getter, True when the value is a measurement that comm loss invalidates)
UNIT_FIELDS: dict[str, tuple[Callable[[UnitView], float], bool]] = {
    "voltage_v": (lambda u: num(u.voltage_v), True),
    "temperature_c": (lambda u: num(u.temperature_c), True),
    "ri_ohm": (lambda u: num(u.ri_ohm), True),
    "ri_baseline_ohm": (lambda u: num(u.ri_baseline_ohm), False),
    "ri_ratio": (_ri_ratio, True),
    "soc": (lambda u: num(u.soc), True),
    "soh": (lambda u: num(u.soh), True),
    "psoc": (lambda u: num(u.psoc), True),
    "equalize_duty": (lambda u: num(u.equalize_duty), True),
    "status": (lambda u: float(UNIT_STATUS_CODES.get(u.status, UNIT_STATUS_OTHER)), False),
    "status_flags": (_unit_flags, False),
    "quality": (lambda u: float(QUALITY_CODES.get(u.quality, 4)), False),
    "position": (lambda u: float(u.position), False),
    "address": (lambda u: float(u.address), False),
    "channel": (lambda u: float(u.channel), False),
}


# --------------------------------------------------------------------------- alarm helpers
def _active(alarms: tuple[AlarmView, ...]) -> list[AlarmView]:
    return [a for a in alarms if a.cleared_at is None]


def alarm_flags(alarms: list[AlarmView], level: str | None) -> int:
    """Bit 0 any active, bit 1 any unacknowledged, bits 2.. by category (see README)."""
    bits = 0
    for a in alarms:
        if level is not None and a.level != level:
            continue
        bits |= 1
        if a.acked_at is None:
            bits |= 2
        code = a.code.lower()
        matched = False
        for bit, fragments in ALARM_CATEGORY_BITS:
            if any(f in code for f in fragments):
                bits |= 1 << bit
                matched = True
        if not matched:
            bits |= 1 << ALARM_OTHER_BIT
    return bits


def _alarms_of_string(snap: Snapshot, i: int) -> list[AlarmView]:
    prefix = f"strings[{i}]"
    return [a for a in _active(snap.alarms) if a.source == prefix or a.source.startswith(prefix + ".")]


# --------------------------------------------------------------------------- string fields
def _good_voltages(s: StringView) -> list[float]:
    return [u.voltage_v for u in s.units if u.voltage_v is not None and u.quality not in NO_DATA_QUALITIES]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


def _string_flags(snap: Snapshot, s: StringView) -> float:
    bits = {StringMode.FLOAT: 1, StringMode.CHARGE: 2, StringMode.DISCHARGE: 4, StringMode.REST: 8}.get(
        s.mode, 0
    )
    if any(u.quality in NO_DATA_QUALITIES for u in s.units):
        bits |= 1 << 4
    levels = {a.level for a in _alarms_of_string(snap, s.index)}
    if "warning" in levels:
        bits |= 1 << 5
    if "alarm" in levels:
        bits |= 1 << 6
    if any(u.equalize_duty > 0 for u in s.units):
        bits |= 1 << 7
    return float(bits)


StringGetter = Callable[[Snapshot, StringView], float]
STRING_FIELDS: dict[str, StringGetter] = {
    "voltage_v": lambda _n, s: num(s.voltage_v),
    "current_a": lambda _n, s: num(s.current_a),
    "ripple_a": lambda _n, s: num(s.ripple_a),
    "spread_v": lambda _n, s: num(s.spread_v),
    "soc": lambda _n, s: num(s.soc),
    "runtime_s": lambda _n, s: num(s.runtime_s),
    "mode": lambda _n, s: float(MODE_CODES.get(s.mode, 4)),
    "flags": _string_flags,
    "alarm_flags": lambda n, s: float(alarm_flags(_alarms_of_string(n, s.index), None)),
    "average_voltage_v": lambda _n, s: _mean(_good_voltages(s)),
    "min_voltage_v": lambda _n, s: min(_good_voltages(s), default=NAN),
    "max_voltage_v": lambda _n, s: max(_good_voltages(s), default=NAN),
    "max_temperature_c": lambda _n, s: max(
        (
            u.temperature_c
            for u in s.units
            if u.temperature_c is not None and u.quality not in NO_DATA_QUALITIES
        ),
        default=NAN,
    ),
    "min_soh": lambda _n, s: min(
        (u.soh for u in s.units if u.soh is not None and u.quality not in NO_DATA_QUALITIES), default=NAN
    ),
    "unit_count": lambda _n, s: float(len(s.units)),
    "comm_lost_count": lambda _n, s: float(sum(u.quality in NO_DATA_QUALITIES for u in s.units)),
    "float": lambda _n, s: num(s.mode is StringMode.FLOAT),
    "charging": lambda _n, s: num(s.mode is StringMode.CHARGE),
    "discharging": lambda _n, s: num(s.mode is StringMode.DISCHARGE),
    "rest": lambda _n, s: num(s.mode is StringMode.REST),
    "equalizing": lambda _n, s: num(any(u.equalize_duty > 0 for u in s.units)),
}


# --------------------------------------------------------------------------- site fields
@dataclass(frozen=True, slots=True)
class SiteState:
    """What site fields need beyond the snapshot: the time now and when data counts as stale."""

    now: float
    stale_after_s: float


def _running(snap: Snapshot, st: SiteState) -> bool:
    return snap.version > 0 and (st.now - snap.time) <= st.stale_after_s


def _any_mode(snap: Snapshot, mode: StringMode) -> bool:
    return any(s.mode is mode for s in snap.strings)


def _site_flags(snap: Snapshot, st: SiteState) -> float:
    units = snap.units
    flags = [
        _running(snap, st),
        _any_mode(snap, StringMode.DISCHARGE),
        _any_mode(snap, StringMode.CHARGE),
        _any_mode(snap, StringMode.FLOAT),
        any(u.equalize_duty > 0 for u in units),
        _any_mode(snap, StringMode.REST),
        not _running(snap, st),
        any(u.quality in NO_DATA_QUALITIES for u in units),
        any(ln.state != "up" for ln in snap.lines),
    ]
    return float(sum(1 << i for i, on in enumerate(flags) if on))


def _oldest_unacked(snap: Snapshot) -> float:
    ids = [a.id for a in snap.alarms if a.acked_at is None]
    return float(min(ids)) if ids else 0.0


SiteGetter = Callable[[Snapshot, SiteState], float]
SITE_FIELDS: dict[str, SiteGetter] = {
    "flags": _site_flags,
    "alarm_flags": lambda n, _s: float(alarm_flags(_active(n.alarms), "alarm")),
    "warning_flags": lambda n, _s: float(alarm_flags(_active(n.alarms), "warning")),
    "running": lambda n, s: num(_running(n, s)),
    "discharging": lambda n, _s: num(_any_mode(n, StringMode.DISCHARGE)),
    "charging": lambda n, _s: num(_any_mode(n, StringMode.CHARGE)),
    "float": lambda n, _s: num(_any_mode(n, StringMode.FLOAT)),
    "equalization": lambda n, _s: num(any(u.equalize_duty > 0 for u in n.units)),
    "alarm": lambda n, _s: num(any(a.level == "alarm" for a in _active(n.alarms))),
    "warning": lambda n, _s: num(any(a.level == "warning" for a in _active(n.alarms))),
    "unacked": lambda n, _s: num(any(a.acked_at is None for a in n.alarms)),
    "comm_lost": lambda n, _s: num(any(u.quality in NO_DATA_QUALITIES for u in n.units)),
    "string_count": lambda n, _s: float(len(n.strings)),
    "unit_count": lambda n, _s: float(sum(len(s.units) for s in n.strings)),
    "comm_lost_count": lambda n, _s: float(sum(u.quality in NO_DATA_QUALITIES for u in n.units)),
    "ambient_c": lambda n, _s: num(n.ambient_c),
    "humidity_pct": lambda n, _s: num(n.humidity_pct),
    "time": lambda n, _s: float(int(n.time)) if n.version else NAN,
    "age_s": lambda n, s: max(0.0, s.now - n.time) if n.version else NAN,
    "version": lambda n, _s: float(n.version),
    "lines_down": lambda n, _s: float(sum(ln.state != "up" for ln in n.lines)),
}

ALARM_FIELDS: dict[str, Callable[[Snapshot], float]] = {
    "count": lambda n: float(len(_active(n.alarms))),
    "alarm_count": lambda n: float(sum(a.level == "alarm" for a in _active(n.alarms))),
    "warning_count": lambda n: float(sum(a.level == "warning" for a in _active(n.alarms))),
    "unacked_count": lambda n: float(sum(a.acked_at is None for a in n.alarms)),
    "oldest_unacked_id": _oldest_unacked,
}


# --------------------------------------------------------------------------- parsing
@dataclass(frozen=True, slots=True)
class SourceRef:
    """A parsed source path. ``kind`` is site, string, unit, alarms, alarm_code, threshold, relay, input."""

    kind: str
    name: str  # field name, alarm code or threshold key
    string: int = -1
    unit: int = -1  # index in the string, 0-based (position - 1)

    @property
    def path(self) -> str:
        if self.kind == "unit":
            return f"strings[{self.string}].units[{self.unit}].{self.name}"
        if self.kind == "string":
            return f"strings[{self.string}].{self.name}"
        if self.kind == "alarm_code":
            return f"alarms.active.{self.name}"
        if self.kind in ("relay", "input"):
            return f"{self.kind}s[{self.string}]"
        prefix = {"site": "site", "alarms": "alarms", "threshold": "thresholds"}[self.kind]
        return f"{prefix}.{self.name}"


class SourceError(ValueError):
    """A source path that names nothing; the message lists what it could name."""


_UNIT_RE = re.compile(r"^strings\[(\d+)\]\.units\[(\d+)\]\.(\w+)$")
_STRING_RE = re.compile(r"^strings\[(\d+)\]\.(\w+)$")
_IO_RE = re.compile(r"^(relays|inputs)\[(\d+)\]$")


def _known(name: str, table: dict[str, Any], what: str) -> None:
    if name not in table:
        raise SourceError(f"unknown {what} field {name!r}; known: {', '.join(sorted(table))}")


def parse_source(path: str) -> SourceRef:
    """Parse and check a source path; raises :class:`SourceError` naming the valid choices."""
    path = path.strip()
    if m := _UNIT_RE.match(path):
        _known(m[3], UNIT_FIELDS, "unit")
        return SourceRef("unit", m[3], int(m[1]), int(m[2]))
    if m := _STRING_RE.match(path):
        _known(m[2], STRING_FIELDS, "string")
        return SourceRef("string", m[2], int(m[1]))
    if m := _IO_RE.match(path):
        return SourceRef(m[1][:-1], "", int(m[2]))
    head, _, rest = path.partition(".")
    if head == "site" and rest:
        _known(rest, SITE_FIELDS, "site")
        return SourceRef("site", rest)
    if head == "alarms" and rest.startswith("active.") and len(rest) > len("active."):
        return SourceRef("alarm_code", rest[len("active.") :])
    if head == "alarms" and rest:
        _known(rest, ALARM_FIELDS, "alarms")
        return SourceRef("alarms", rest)
    if head == "thresholds" and rest:
        return SourceRef("threshold", rest)
    raise SourceError(
        f"source {path!r} is not a snapshot path; use site.<field>, strings[i].<field>, "
        "strings[i].units[n].<field>, alarms.<field>, alarms.active.<code>, thresholds.<key>, "
        "relays[i] or inputs[i]"
    )


def scalar_value(ref: SourceRef, snap: Snapshot, site: SiteState) -> float:
    """The value of a non-unit source (NaN when the snapshot has none)."""
    if ref.kind == "site":
        return SITE_FIELDS[ref.name](snap, site)
    if ref.kind == "string":
        if ref.string >= len(snap.strings):
            return NAN
        return STRING_FIELDS[ref.name](snap, snap.strings[ref.string])
    if ref.kind == "alarms":
        return ALARM_FIELDS[ref.name](snap)
    if ref.kind == "alarm_code":
        return num(any(a.code == ref.name for a in _active(snap.alarms)))
    if ref.kind == "threshold":
        thresholds = snap.extra.get("thresholds") or {}
        return num(thresholds.get(ref.name)) if isinstance(thresholds, dict) else NAN
    if ref.kind in ("relay", "input"):
        values = snap.relays if ref.kind == "relay" else snap.inputs
        return num(values[ref.string]) if ref.string < len(values) else NAN
    if ref.kind == "unit":
        if ref.string >= len(snap.strings) or ref.unit >= len(snap.strings[ref.string].units):
            return NAN
        u = snap.strings[ref.string].units[ref.unit]
        getter, measured = UNIT_FIELDS[ref.name]
        return NAN if measured and u.quality in NO_DATA_QUALITIES else getter(u)
    raise AssertionError(ref.kind)
