"""What each alarm kind demands right now, from one snapshot's strings, sensors and lines.

Pure functions of the values, the limits and the previous demand (for hysteresis); the
manager decides what to raise (flood bounds) and the book handles delays and states.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.core.alarms.kinds import KINDS
from gateway.core.alarms.thresholds import Limits, StringProfile, Thresholds, temperature_offset_v
from gateway.core.model import Quality, StringMode, StringView, UnitView

HOLD = "hold"  # no decision possible: keep the alarm as it is

_GOOD = (Quality.GOOD, Quality.OUT_OF_RANGE)
_FUSE_FLAGS = frozenset({"fuse_open", "measurement_fuse_open", "lead_fuse_open"})
_SENSOR_FLAGS = frozenset({"temperature_sensor_fault", "temperature_fault", "sensor_fault"})
_FLOAT_LIKE = (StringMode.FLOAT, StringMode.REST)


@dataclass(slots=True)
class Demand:
    """The level one condition demands now, where, and why."""

    code: str
    source: str
    level: str | None  # None: inside limits; HOLD: unknown
    limits: Limits
    value: float | None = None
    limit: float | None = None
    string: int | None = None
    position: int | None = None
    bus: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.source)

    def message(self) -> str:
        kind = KINDS.get(self.code)
        title = kind.title if kind else self.code.replace("_", " ").capitalize()
        if self.value is None or self.limit is None:
            return f"{title} ({self.source})"
        unit = f" {kind.unit}" if kind and kind.unit else ""
        return f"{title} ({self.source}): {self.value:.4g}{unit}, limit {self.limit:.4g}{unit}"


def demanded_level(
    value: float, limits: Limits, direction: str, previous: str | None
) -> tuple[str | None, float | None]:
    """The level a value demands, with hysteresis: a level stays until the value is back past
    its limit by the hysteresis. Returns (level, the limit crossed)."""
    h = limits.hysteresis
    for level, limit in (("alarm", limits.alarm), ("warning", limits.warning)):
        if limit is None:
            continue
        held = previous in ("alarm", level)
        if direction == "high":
            on = value >= limit or (held and value > limit - h)
        else:
            on = value <= limit or (held and value < limit + h)
        if on:
            return level, limit
    return None, None


def unit_source(string: int, position: int) -> str:
    return f"strings[{string}].units[{position - 1}]"


def string_source(string: int) -> str:
    return f"strings[{string}]"


def unit_ok(u: UnitView) -> bool:
    """True when the unit's values are current enough to judge."""
    return u.quality in _GOOD and u.status != "comm_lost"


def unit_comm_lost(u: UnitView) -> bool:
    return u.quality == Quality.COMM_LOST or u.status == "comm_lost"


class Checker:
    """Turns values into demands; ``previous(key)`` gives the last demanded level."""

    def __init__(
        self,
        thresholds: Thresholds,
        profiles: list[StringProfile],
        previous: Any,
        temperature_compensation: bool = True,
    ) -> None:
        self.th = thresholds
        self.profiles = profiles
        self.previous = previous
        self.compensate = temperature_compensation

    def _value(
        self,
        code: str,
        source: str,
        value: float | None,
        limits: Limits,
        *,
        offset: float = 0.0,
        **where: Any,
    ) -> Demand:
        if not limits.enabled:
            return Demand(code, source, None, limits, **where)
        if value is None:
            return Demand(code, source, HOLD, limits, **where)
        if offset:
            w = limits.warning + offset if limits.warning is not None else None
            a = limits.alarm + offset if limits.alarm is not None else None
            limits = Limits(
                limits.enabled,
                w,
                a,
                limits.hysteresis,
                limits.delay_s,
                limits.clear_delay_s,
                limits.latching,
                limits.level,
            )
        level, limit = demanded_level(value, limits, KINDS[code].direction, self.previous((code, source)))
        return Demand(code, source, level, limits, value, limit, **where)

    @staticmethod
    def _flag(code: str, source: str, on: bool | None, limits: Limits, **where: Any) -> Demand:
        if not limits.enabled:
            return Demand(code, source, None, limits, **where)
        level = HOLD if on is None else (limits.level if on else None)
        return Demand(code, source, level, limits, **where)

    def units(self, s: StringView) -> Iterator[Demand]:
        p = self.profiles[s.index] if s.index < len(self.profiles) else None
        good = [u for u in s.units if unit_ok(u)]
        volts = [u.voltage_v for u in good if u.voltage_v is not None]
        temps = [u.temperature_c for u in good if u.temperature_c is not None]
        mean_v = sum(volts) / len(volts) if len(volts) >= 3 else None
        mean_t = sum(temps) / len(temps) if len(temps) >= 3 else None
        for u in s.units:
            yield from self._unit(s, p, u, mean_v, mean_t)

    def _unit(
        self, s: StringView, p: StringProfile | None, u: UnitView, mean_v: float | None, mean_t: float | None
    ) -> Iterator[Demand]:
        i, pos = s.index, u.position
        src = unit_source(i, pos)
        where: dict[str, Any] = {"string": i, "position": pos, "bus": u.bus}

        def lim(code: str) -> Limits:
            return self.th.get(code, i, pos)

        flags: frozenset[str] = getattr(u, "flags", frozenset()) or frozenset()
        yield self._flag("unit_comm_lost", src, unit_comm_lost(u), lim("unit_comm_lost"), **where)
        ok = unit_ok(u)
        yield self._flag(
            "unit_identity_mismatch",
            src,
            u.status == "identity_mismatch" or "identity_mismatch" in flags,
            lim("unit_identity_mismatch"),
            **where,
        )
        yield self._flag(
            "unit_fuse_open", src, bool(flags & _FUSE_FLAGS) if ok else None, lim("unit_fuse_open"), **where
        )
        yield self._flag(
            "sensor_fault", src, bool(flags & _SENSOR_FLAGS) if ok else None, lim("sensor_fault"), **where
        )
        v = u.voltage_v if ok and not flags & _FUSE_FLAGS else None
        t = u.temperature_c if ok and not flags & _SENSOR_FLAGS else None
        offset = temperature_offset_v(p, t, p.cells) if (p and self.compensate) else 0.0
        discharging = s.mode == StringMode.DISCHARGE
        yield self._value(
            "unit_voltage_high",
            src,
            None if discharging else v,
            lim("unit_voltage_high"),
            offset=offset,
            **where,
        )
        on_float = s.mode == StringMode.FLOAT
        yield self._value(
            "unit_voltage_low", src, v if on_float else None, lim("unit_voltage_low"), offset=offset, **where
        )
        yield self._value("unit_discharge_voltage_low", src, v, lim("unit_discharge_voltage_low"), **where)
        yield self._value("unit_temperature_high", src, t, lim("unit_temperature_high"), **where)
        yield self._value("unit_temperature_low", src, t, lim("unit_temperature_low"), **where)
        ri = u.ri_ohm if ok else None
        yield self._value("unit_ri_high", src, ri, lim("unit_ri_high"), **where)
        rise = ri / u.ri_baseline_ohm - 1.0 if ri is not None and u.ri_baseline_ohm else None
        yield self._value("unit_ri_rise", src, rise, lim("unit_ri_rise"), **where)
        dev_v = abs(v - mean_v) if v is not None and mean_v is not None and s.mode in _FLOAT_LIKE else None
        yield self._value("unit_voltage_deviation", src, dev_v, lim("unit_voltage_deviation"), **where)
        dev_t = abs(t - mean_t) if t is not None and mean_t is not None else None
        yield self._value(
            "unit_temperature_deviation", src, dev_t, lim("unit_temperature_deviation"), **where
        )

    def string(self, s: StringView) -> Iterator[Demand]:
        i = s.index
        p = self.profiles[i] if i < len(self.profiles) else None
        src = string_source(i)
        where = {"string": i}

        def lim(code: str) -> Limits:
            return self.th.get(code, i)

        temps = [u.temperature_c for u in s.units if unit_ok(u) and u.temperature_c is not None]
        mean_t = sum(temps) / len(temps) if temps else None
        offset = temperature_offset_v(p, mean_t, p.cells * p.count) if (p and self.compensate) else 0.0
        discharging = s.mode == StringMode.DISCHARGE
        yield self._value(
            "string_voltage_high",
            src,
            None if discharging else s.voltage_v,
            lim("string_voltage_high"),
            offset=offset,
            **where,
        )
        yield self._value("string_voltage_low", src, s.voltage_v, lim("string_voltage_low"), **where)
        current = s.current_a
        yield self._value(
            "string_charge_current_high",
            src,
            None if current is None else max(current, 0.0),
            lim("string_charge_current_high"),
            **where,
        )
        yield self._value(
            "string_discharge_current_high",
            src,
            None if current is None else max(-current, 0.0),
            lim("string_discharge_current_high"),
            **where,
        )
        yield self._flag(
            "string_current_over_range",
            src,
            s.current_over_range,
            lim("string_current_over_range"),
            **where,
        )
        # ripple heats batteries on float and charge; in a discharge it is the UPS inverter's load
        yield self._value(
            "string_ripple_high", src, None if discharging else s.ripple_a, lim("string_ripple_high"), **where
        )
        yield self._flag("string_discharging", src, discharging, lim("string_discharging"), **where)

    def site(self, ambient_c: float | None, humidity_pct: float | None) -> Iterator[Demand]:
        yield self._value(
            "ambient_temperature_high", "site", ambient_c, self.th.get("ambient_temperature_high")
        )
        yield self._value(
            "ambient_temperature_low", "site", ambient_c, self.th.get("ambient_temperature_low")
        )
        yield self._value("ambient_humidity_high", "site", humidity_pct, self.th.get("ambient_humidity_high"))
