"""Snapshot → JSON for the API, computed once per snapshot version and shared by every client.

A snapshot is immutable, so its JSON is too: twenty browsers polling the overview of 512
units cost one serialization per engine cycle, not twenty.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from dataclasses import dataclass
from typing import Any

from gateway.core.model import AlarmView, DeviceStats, LineStats, Snapshot, StringView, UnitView

UNIT_FIELDS = (
    "string",
    "position",
    "model",
    "bus",
    "address",
    "channel",
    "voltage_v",
    "temperature_c",
    "ri_ohm",
    "ri_baseline_ohm",
    "soc",
    "soh",
    "psoc",
    "equalize_duty",
    "status",
    "quality",
    "updated_at",
)
STRING_FIGURES = ("voltage_v", "current_a", "ripple_a", "spread_v", "soc", "runtime_s")


def _num(value: float | None, digits: int) -> float | None:
    # NaN/inf cannot be JSON; a monitor glitch must not turn into a 500
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def unit_dict(u: UnitView) -> dict[str, Any]:
    return {
        "string": u.string,
        "position": u.position,
        "model": u.model,
        "bus": u.bus,
        "address": u.address,
        "channel": u.channel,
        "voltage_v": _num(u.voltage_v, 4),
        "temperature_c": _num(u.temperature_c, 2),
        "ri_ohm": _num(u.ri_ohm, 7),
        "ri_baseline_ohm": _num(u.ri_baseline_ohm, 7),
        "soc": _num(u.soc, 4),
        "soh": _num(u.soh, 4),
        "psoc": bool(u.psoc),
        "equalize_duty": _num(u.equalize_duty, 4),
        "status": u.status,
        "quality": getattr(u.quality, "value", str(u.quality)),
        "updated_at": _num(u.updated_at, 3),
    }


def target_voltage_v(s: StringView, snapshot: Snapshot) -> float | None:
    """The unit voltage equalization aims at: the engine's, else the string's mean unit voltage."""
    targets = snapshot.extra.get("equalize_target_v") if isinstance(snapshot.extra, dict) else None
    if isinstance(targets, list | tuple) and s.index < len(targets) and targets[s.index] is not None:
        return _num(float(targets[s.index]), 4)
    volts = [u.voltage_v for u in s.units if u.voltage_v is not None]
    return _num(sum(volts) / len(volts), 4) if volts else None


def string_dict(s: StringView, snapshot: Snapshot, *, with_units: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": s.index,
        "name": s.name,
        "chemistry": s.chemistry,
        "voltage_v": _num(s.voltage_v, 3),
        "current_a": _num(s.current_a, 3),
        "ripple_a": _num(s.ripple_a, 3),
        "spread_v": _num(s.spread_v, 4),
        "soc": _num(s.soc, 4),
        "runtime_s": _num(s.runtime_s, 0),
        "mode": getattr(s.mode, "value", str(s.mode)),
        "unit_count": len(s.units),
        "target_voltage_v": target_voltage_v(s, snapshot),
        "status_counts": _status_counts(s.units),
    }
    if with_units:
        out["units"] = [unit_dict(u) for u in s.units]
    return out


def _status_counts(units: tuple[UnitView, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for u in units:
        counts[u.status] = counts.get(u.status, 0) + 1
    return counts


def alarm_dict(a: AlarmView) -> dict[str, Any]:
    return {
        "id": a.id,
        "code": a.code,
        "level": a.level,
        "source": a.source,
        "message": a.message,
        "raised_at": a.raised_at,
        "cleared_at": a.cleared_at,
        "acked_by": a.acked_by,
        "acked_at": a.acked_at,
        "value": _num(a.value, 6),
    }


def line_dict(line: LineStats) -> dict[str, Any]:
    return {
        "name": line.name,
        "url": line.url,
        "state": line.state,
        "requests": line.requests,
        "timeouts": line.timeouts,
        "crc_errors": line.crc_errors,
        "exceptions": line.exceptions,
        "latency_ms": _num(line.latency_ms, 2),
        "cycle_s": _num(line.cycle_s, 3),
        "units_comm_lost": line.units_comm_lost,
        "devices": [device_dict(d) for d in line.devices],
    }


def device_dict(d: DeviceStats) -> dict[str, Any]:
    return {
        "address": d.address,
        "model": d.model,
        "state": d.state,
        "serial": d.serial,
        "firmware": d.firmware,
        "requests": d.requests,
        "timeouts": d.timeouts,
        "crc_errors": d.crc_errors,
        "exceptions": d.exceptions,
        "latency_ms": _num(d.latency_ms, 2),
        "consecutive_failures": d.consecutive_failures,
        "last_ok_time": d.last_ok_time,
    }


def site_dict(snapshot: Snapshot, *, with_units: bool) -> dict[str, Any]:
    return {
        "name": snapshot.site_name,
        "version": snapshot.version,
        "time": snapshot.time,
        "ambient_c": _num(snapshot.ambient_c, 2),
        "humidity_pct": _num(snapshot.humidity_pct, 1),
        "relays": list(snapshot.relays),
        "inputs": list(snapshot.inputs),
        "alarm_count": sum(1 for a in snapshot.alarms if a.cleared_at is None),
        "unacked_count": sum(1 for a in snapshot.alarms if a.acked_at is None),
        "strings": [string_dict(s, snapshot, with_units=with_units) for s in snapshot.strings],
    }


def overview_dict(snapshot: Snapshot) -> dict[str, Any]:
    """Everything the overview page shows: site, strings with units, alarms, lines."""
    return {
        "site": site_dict(snapshot, with_units=True),
        "alarms": [alarm_dict(a) for a in snapshot.alarms],
        "lines": [line_dict(line) for line in snapshot.lines],
    }


def dumps(data: Any) -> bytes:
    """Compact JSON; anything not JSON (NaN, sets, enums in event data) becomes null or text."""
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).encode()
    except ValueError:
        return json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, default=str).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return _num(value, 12)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@dataclass
class _Cached:
    snapshot: Snapshot
    overview: dict[str, Any]
    overview_json: bytes
    _gzip: bytes | None = None

    @property
    def overview_gzip(self) -> bytes:
        """The JSON gzipped, once per version: a 512-unit overview shrinks about 7×, which is
        most of the work of sending it (TLS, sockets) to twenty clients a second."""
        if self._gzip is None:
            self._gzip = gzip.compress(self.overview_json, compresslevel=5, mtime=0)
        return self._gzip


class SnapshotCache:
    """The overview of the latest snapshot, serialized once per version."""

    def __init__(self) -> None:
        self._cached: _Cached | None = None
        self._lock = threading.Lock()

    def get(self, snapshot: Snapshot) -> _Cached:
        cached = self._cached
        if cached is not None and cached.snapshot is snapshot:
            return cached
        with self._lock:
            cached = self._cached
            if cached is None or cached.snapshot is not snapshot:
                overview = overview_dict(snapshot)
                cached = self._cached = _Cached(snapshot, overview, dumps(overview))
            return cached
