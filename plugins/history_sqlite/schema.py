"""The SQLite layout of the history: what is kept per unit, string and site, and how it is scaled.

Values are stored as scaled integers (0.1 mV, 0.01 °C, 0.1 µΩ, 1e-4) because SQLite packs
small integers in 1–4 bytes where a REAL always takes 8; rollups store min and max as offsets
from the mean, which mostly fit one byte and take none when zero (Ri, SOH, SOC on float).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA_VERSION = 2  # 2: rollup min/max stored as offsets from the mean


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the model's attribute name (UnitView/StringView/Snapshot)
    scale: float  # stored integer = round(value * scale)
    categorical: bool = False  # codes: rollups keep only the maximum (the most severe)


UNIT_STATUS = {"ok": 0, "warning": 1, "alarm": 2, "no_data": 3, "comm_lost": 4}
STRING_MODE = {"unknown": 0, "float": 1, "rest": 2, "charge": 3, "discharge": 4}

KINDS: dict[str, tuple[Field, ...]] = {
    "unit": (
        Field("voltage_v", 1e4),
        Field("temperature_c", 100),
        Field("ri_ohm", 1e7),
        Field("soc", 1e4),
        Field("soh", 1e4),
        Field("duty", 1e4),
        Field("status", 1, categorical=True),
    ),
    "string": (
        Field("voltage_v", 1e3),
        Field("current_a", 1e3),
        Field("ripple_a", 1e3),
        Field("spread_v", 1e4),
        Field("soc", 1e4),
        Field("mode", 1, categorical=True),
    ),
    "site": (Field("ambient_c", 100), Field("humidity_pct", 100)),
}
TIERS = ("raw", "1m", "1h")
TIER_SECONDS = {"1m": 60, "1h": 3600}


def table(tier: str, kind: str) -> str:
    return {"raw": "raw", "1m": "r1m", "1h": "r1h"}[tier] + "_" + kind


def rollup_columns(kind: str) -> list[str]:
    return [
        col
        for f in KINDS[kind]
        for col in (
            [f"{f.name}_max"] if f.categorical else [f"{f.name}_mean", f"{f.name}_min", f"{f.name}_max"]
        )
    ]


def rollup_expr(column: str, prefix: str = "") -> str:
    """SQL giving a rollup column's value: ``x_min``/``x_max`` are stored as offsets from ``x_mean``."""
    base, _, agg = column.rpartition("_")
    if agg in ("min", "max") and f"{base}_mean" in _MEAN_COLUMNS:
        return f"({prefix}{base}_mean + {prefix}{column})"
    return f"{prefix}{column}"


_MEAN_COLUMNS = frozenset(f"{f.name}_mean" for fields in KINDS.values() for f in fields if not f.categorical)


def kind_of(source: str) -> str:
    """``strings[0].units[3]`` → unit, ``strings[0]`` → string, ``site`` → site."""
    if source == "site":
        return "site"
    if source.startswith("strings[") and ".units[" in source:
        return "unit"
    if source.startswith("strings[") and source.endswith("]"):
        return "string"
    raise ValueError(f"unknown history source {source!r}: use site, strings[i] or strings[i].units[j]")


def create(conn: sqlite3.Connection) -> None:
    """Create the tables if missing (idempotent)."""
    # must precede the first table: lets pruning hand space back to the file system
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    stmts = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS source (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "kind TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL, "
        "code TEXT NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, state TEXT, actor TEXT, "
        "message TEXT NOT NULL, data TEXT)",
        "CREATE INDEX IF NOT EXISTS event_time ON event (time)",
    ]
    for kind, fields in KINDS.items():
        raw_cols = ", ".join(f"{f.name} INTEGER" for f in fields)
        stmts.append(
            f"CREATE TABLE IF NOT EXISTS {table('raw', kind)} (src INTEGER NOT NULL, t INTEGER NOT NULL, "
            f"{raw_cols}, PRIMARY KEY (src, t)) WITHOUT ROWID"
        )
        roll_cols = ", ".join(f"{c} INTEGER" for c in rollup_columns(kind))
        stmts.extend(
            f"CREATE TABLE IF NOT EXISTS {table(tier, kind)} (src INTEGER NOT NULL, t INTEGER NOT NULL, "
            f"n INTEGER NOT NULL, {roll_cols}, PRIMARY KEY (src, t)) WITHOUT ROWID"
            for tier in ("1m", "1h")
        )
    for s in stmts:
        conn.execute(s)
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None and int(row[0]) < 2:
        _offsets_from_means(conn)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    conn.commit()


def _offsets_from_means(conn: sqlite3.Connection) -> None:
    """Version 1 kept absolute rollup min/max: turn them into offsets in place (one transaction)."""
    for kind, fields in KINDS.items():
        sets = ", ".join(
            f"{f.name}_{agg} = {f.name}_{agg} - {f.name}_mean"
            for f in fields
            if not f.categorical
            for agg in ("min", "max")
        )
        for tier in ("1m", "1h"):
            conn.execute(f"UPDATE {table(tier, kind)} SET {sets}")  # noqa: S608 - schema names only


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas the history relies on (WAL: readers never block the writer)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL: a commit survives a killed process; only an OS crash may lose the last ones
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn
