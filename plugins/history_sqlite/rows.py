"""What a snapshot becomes in the history: scaled integer rows, the 1-minute accumulators,
and the SQL that folds minutes into rollups. Pure functions, used by the writer thread.
"""

# ruff: noqa: S608 - table and column names in SQL text come from schema constants, never from input

from __future__ import annotations

from typing import Any

from gateway.core.model import Snapshot
from plugins.history_sqlite import schema
from plugins.history_sqlite.schema import KINDS, STRING_MODE, UNIT_STATUS, rollup_columns, table


def _scaled(value: Any, f: schema.Field) -> int | None:
    if value is None:
        return None
    return round(float(value) * f.scale)


def snapshot_rows(snap: Snapshot) -> list[tuple[str, str, tuple[int | None, ...], bool]]:
    """(kind, source, scaled values, full-rate mode?) for every unit, string and the site."""
    rows: list[tuple[str, str, tuple[int | None, ...], bool]] = []
    uf, sf, tf = KINDS["unit"], KINDS["string"], KINDS["site"]
    modes = []
    for s in snap.strings:
        mode = getattr(s.mode, "value", s.mode)
        modes.append(mode)
        for u in s.units:
            values = (
                _scaled(u.voltage_v, uf[0]),
                _scaled(u.temperature_c, uf[1]),
                _scaled(u.ri_ohm, uf[2]),
                _scaled(u.soc, uf[3]),
                _scaled(u.soh, uf[4]),
                _scaled(u.equalize_duty, uf[5]),
                UNIT_STATUS.get(u.status, 5),
            )
            rows.append(("unit", f"strings[{s.index}].units[{u.position - 1}]", values, False))
        values = (
            _scaled(s.voltage_v, sf[0]),
            _scaled(s.current_a, sf[1]),
            _scaled(s.ripple_a, sf[2]),
            _scaled(s.spread_v, sf[3]),
            _scaled(s.soc, sf[4]),
            STRING_MODE.get(mode, 0),
        )
        rows.append(("string", f"strings[{s.index}]", values, False))
    rows.append(("site", "site", (_scaled(snap.ambient_c, tf[0]), _scaled(snap.humidity_pct, tf[1])), False))
    return rows


class MinuteAccumulator:
    """Accumulates one minute of one source: per field count, sum, min, max."""

    __slots__ = ("n", "stats")

    def __init__(self, width: int) -> None:
        self.n = 0
        self.stats: list[list[int] | None] = [None] * width

    def add(self, values: tuple[int | None, ...]) -> None:
        self.n += 1
        for i, v in enumerate(values):
            if v is None:
                continue
            st = self.stats[i]
            if st is None:
                self.stats[i] = [1, v, v, v]
            else:
                st[0] += 1
                st[1] += v
                st[2] = min(st[2], v)
                st[3] = max(st[3], v)

    def row(self, fields: tuple[schema.Field, ...]) -> list[int | None]:
        out: list[int | None] = [self.n]
        for f, st in zip(fields, self.stats, strict=True):
            if f.categorical:
                out.append(st[3] if st else None)
            elif st is None:
                out += [None, None, None]
            else:
                mean = round(st[1] / st[0])
                out += [mean, st[2] - mean, st[3] - mean]  # offsets: see schema
        return out


def upsert_minute_sql(kind: str) -> str:
    """Insert one minute; a minute split by a restart merges both halves (min/max are offsets)."""
    cols = rollup_columns(kind)
    marks = ", ".join("?" * (3 + len(cols)))
    sets = ["n = n + excluded.n"]
    for f in KINDS[kind]:
        if f.categorical:
            c = f"{f.name}_max"
            sets.append(f"{c} = COALESCE(MAX({c}, excluded.{c}), {c}, excluded.{c})")
            continue
        m, lo, hi = (f"{f.name}_{a}" for a in ("mean", "min", "max"))
        # SET expressions see the row before the update, so each one recomputes the merged mean
        mean = (
            f"CAST(ROUND((COALESCE({m}, excluded.{m}) * n + COALESCE(excluded.{m}, {m}) * excluded.n)"
            f" * 1.0 / (n + excluded.n)) AS INTEGER)"
        )
        sets.append(f"{m} = {mean}")
        for c, agg in ((lo, "MIN"), (hi, "MAX")):
            old_v, new_v = f"({m} + {c})", f"(excluded.{m} + excluded.{c})"
            sets.append(f"{c} = COALESCE({agg}({old_v}, {new_v}), {old_v}, {new_v}) - {mean}")
    return (
        f"INSERT INTO {table('1m', kind)} VALUES ({marks}) ON CONFLICT (src, t) DO UPDATE SET "
        + ", ".join(sets)
    )


def hour_from_minutes_sql(kind: str) -> str:
    """One hour's rollup from its minutes: weighted mean, extremes as offsets from that mean."""
    inner, outer = [], []
    for f in KINDS[kind]:
        if f.categorical:
            c = f"{f.name}_max"
            inner.append(f"MAX({c}) AS {c}")
            outer.append(c)
            continue
        m, lo, hi = (f"{f.name}_{a}" for a in ("mean", "min", "max"))
        inner += [
            f"CAST(ROUND(SUM({m} * n) * 1.0 / SUM(CASE WHEN {m} IS NOT NULL THEN n END)) AS INTEGER) AS {m}",
            f"MIN({m} + {lo}) AS {lo}",
            f"MAX({m} + {hi}) AS {hi}",
        ]
        outer += [m, f"{lo} - {m}", f"{hi} - {m}"]
    return (
        f"INSERT OR REPLACE INTO {table('1h', kind)} SELECT src, ?, n, {', '.join(outer)} FROM "
        f"(SELECT src, SUM(n) AS n, {', '.join(inner)} FROM {table('1m', kind)} "
        "WHERE t >= ? AND t < ? GROUP BY src)"
    )
