"""Reading the history back: events and time series, as plain synchronous queries.

The sink runs these in a worker thread with their own read-only connection (WAL lets them
read while the writer writes); the CLI calls them directly on the file.
"""

# ruff: noqa: S608 - table and column names in SQL text come from schema constants, never from input

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.core.commands import Actor
from gateway.core.events import Event
from plugins.history_sqlite.schema import KINDS, TIER_SECONDS, kind_of, rollup_expr, table

AUTO_MIN_POINTS = 300  # "auto" picks the coarsest tier that still gives at least this many points


def events(
    conn: sqlite3.Connection,
    *,
    since_id: int = 0,
    t_from: float | None = None,
    t_to: float | None = None,
    kind: str | None = None,
    limit: int = 1000,
) -> list[Event]:
    """Persisted events, oldest first."""
    sql = "SELECT id, time, kind, code, level, source, state, actor, message, data FROM event WHERE id > ?"
    args: list[Any] = [since_id]
    if t_from is not None:
        sql += " AND time >= ?"
        args.append(t_from)
    if t_to is not None:
        sql += " AND time <= ?"
        args.append(t_to)
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    sql += " ORDER BY id LIMIT ?"
    args.append(int(limit))
    out = []
    for id_, t, k, code, level, source, state, actor, message, data in conn.execute(sql, args):
        a = json.loads(actor) if actor else None
        out.append(
            Event(
                time=t,
                kind=k,
                code=code,
                message=message,
                level=level,
                source=source,
                state=state,
                actor=Actor(**a) if a else None,
                data=json.loads(data) if data else {},
                id=id_,
            )
        )
    return out


def latest_time(conn: sqlite3.Connection) -> float | None:
    """The newest time in the store (samples or events): 'now' for relative times in replays."""
    times = [conn.execute("SELECT MAX(time) FROM event").fetchone()[0]]
    row = conn.execute("SELECT MAX(t) FROM r1m_site").fetchone()[0]
    times.append(row + 60 if row is not None else None)
    raw = conn.execute("SELECT MAX(t) FROM raw_site").fetchone()[0]
    times.append(raw / 1000 if raw is not None else None)
    known = [t for t in times if t is not None]
    return max(known) if known else None


def pick_resolution(t_from: float, t_to: float, resolution: str, raw_days: float, now: float | None) -> str:
    if resolution != "auto":
        if resolution not in ("raw", "1m", "1h"):
            raise ValueError(f"unknown resolution {resolution!r}: raw, 1m, 1h or auto")
        return resolution
    span = max(0.0, t_to - t_from)
    if span / 3600 >= AUTO_MIN_POINTS:
        return "1h"
    if span / 60 >= AUTO_MIN_POINTS or (now is not None and t_from < now - raw_days * 86400):
        return "1m"
    return "raw"


def series(
    conn: sqlite3.Connection,
    source: str,
    fields: list[str],
    t_from: float,
    t_to: float,
    resolution: str = "raw",
) -> dict[str, list[Any]]:
    """``{"t": [...], field: [...]}``; rollups answer ``voltage_v`` (mean), ``voltage_v_min``,
    ``voltage_v_max`` and ``n``; ``t`` is the start of each minute or hour."""
    kind = kind_of(source)
    known = {f.name: f for f in KINDS[kind]}
    row = conn.execute("SELECT id FROM source WHERE name = ?", (source,)).fetchone()
    cols: list[str] = []
    scales: list[float] = []
    for name in fields:
        base, _, agg = name.rpartition("_")
        if name in known:
            f, col = known[name], name
            if resolution != "raw":
                col = f"{name}_max" if f.categorical else f"{name}_mean"
        elif resolution != "raw" and agg in ("min", "max") and base in known:
            f, col = known[base], name
            if f.categorical and agg == "min":
                raise ValueError(f"{base} is a code: only its maximum is kept")
        elif name == "n" and resolution != "raw":
            cols.append("n")
            scales.append(1.0)
            continue
        else:
            raise ValueError(f"unknown field {name!r} for {kind} history; known: {', '.join(known)}")
        cols.append(col)
        scales.append(f.scale)
    out: dict[str, list[Any]] = {"t": [], **{name: [] for name in fields}}
    if row is None:
        return out
    if resolution == "raw":
        lo, hi, div = int(t_from * 1000), int(t_to * 1000), 1000.0
    else:
        step = TIER_SECONDS[resolution]
        lo, hi, div = int(t_from // step * step), int(t_to), 1.0
    sql = (
        f"SELECT t, {', '.join(rollup_expr(c) if resolution != 'raw' else c for c in cols) or 'NULL'} "
        f"FROM {table(resolution, kind)} "
        "WHERE src = ? AND t >= ? AND t <= ? ORDER BY t"
    )
    rows = conn.execute(sql, (row[0], lo, hi)).fetchall()
    if not rows:
        return out
    columns = list(zip(*rows, strict=True))  # transposed in C: one pass per field, not per value
    out["t"] = [t / div for t in columns[0]] if div != 1.0 else [float(t) for t in columns[0]]
    for i, name in enumerate(fields):
        scale = scales[i]
        out[name] = [None if v is None else v / scale for v in columns[i + 1]]
    return out
