"""The history's writer thread: snapshots and events in through a queue, SQLite rows out.

The event loop only enqueues; this thread decimates raw samples (deadband, full rate in a
discharge), accumulates the 1-minute rollups, builds hourly ones, commits at least every
second (kill -9 loses at most that), and keeps the file inside its retention and size budget.
"""

# ruff: noqa: S608 - table and column names in SQL text come from schema constants, never from input

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gateway.core.events import Event
from gateway.core.logging import get_logger
from gateway.core.model import Snapshot
from plugins.history_sqlite import schema
from plugins.history_sqlite.rows import (
    MinuteAccumulator,
    hour_from_minutes_sql,
    snapshot_rows,
    upsert_minute_sql,
)
from plugins.history_sqlite.schema import KINDS, table

log = get_logger("plugins.history_sqlite")

_STOP = object()


@dataclass
class WriterSettings:
    """What the writer needs of the sink's config, in SI units and seconds."""

    raw_days: float = 7.0
    rollup_1m_days: float = 35.0
    rollup_1h_days: float = 3650.0
    events_days: float = 3650.0
    size_budget_bytes: int = 4 << 30
    raw_max_gap_s: float = 900.0
    full_rate_modes: frozenset[str] = frozenset({"discharge"})
    deadbands: dict[str, float] = field(default_factory=dict)  # "unit.voltage_v" -> SI value
    relative_deadbands: dict[str, float] = field(default_factory=dict)  # "unit.voltage_v" -> fraction
    commit_interval_s: float = 1.0
    maintenance_interval_s: float = 60.0


# Outside a discharge a raw sample is kept only when a value moved this much from the last kept
# one (or after raw_max_gap_s): the 1-minute rollups hold every sample's mean/min/max anyway.
# Bands sit above the monitors' noise (C20: ~0.03 % of V, 0.05 °C) so noise alone stores nothing.
DEFAULT_DEADBANDS = {
    "unit.voltage_v": 0.002,
    "unit.temperature_c": 0.2,
    "unit.soc": 0.002,
    "unit.soh": 0.001,
    "unit.duty": 0.05,
    "string.voltage_v": 0.05,
    "string.current_a": 0.2,
    "string.ripple_a": 0.1,
    "string.spread_v": 0.01,
    "string.soc": 0.002,
    "site.ambient_c": 0.2,
    "site.humidity_pct": 1.0,
}


# ...and voltages relative to their value, so one setting fits 2 V cells and 12 V blocks:
# 0.15 % is 20 mV on a floating 12 V block, 3.4 mV on a 2 V cell (datasheet accuracy: 0.5 %)
DEFAULT_RELATIVE_DEADBANDS = {"unit.voltage_v": 0.0015, "string.voltage_v": 0.001}


class HistoryWriter(threading.Thread):
    """The one thread that writes the history file."""

    def __init__(
        self, path: str, settings: WriterSettings, meta: dict[str, Any] | None = None, maxsize: int = 300
    ) -> None:
        super().__init__(name="history-sqlite-writer", daemon=True)
        self.path = path
        self.settings = settings
        self.meta = meta or {}
        self.queue: queue.Queue[Any] = queue.Queue(maxsize)
        self.dropped = 0  # snapshots/events refused because the writer fell behind
        self.errors = 0
        self.last_error = ""
        self.latest_t: float | None = None
        self.ready = threading.Event()
        self.last_event_id = 0
        self._src: dict[str, int] = {}
        self._last_raw: dict[str, tuple[float, tuple[int | None, ...]]] = {}
        self._minute: int | None = None
        self._acc: dict[str, MinuteAccumulator] = {}
        self._deadband = {**DEFAULT_DEADBANDS, **settings.deadbands}
        self._db_scaled = self._scaled_deadbands()
        relative = {**DEFAULT_RELATIVE_DEADBANDS, **settings.relative_deadbands}
        self._db_relative = {
            kind: tuple(relative.get(f"{kind}.{f.name}", 0.0) for f in fields)
            for kind, fields in KINDS.items()
        }
        self._next_maintenance = 0.0
        self._hours_caught_up = False

    def _scaled_deadbands(self) -> dict[str, tuple[int, ...]]:
        out = {}
        for kind, fields in KINDS.items():
            out[kind] = tuple(round(self._deadband.get(f"{kind}.{f.name}", 0.0) * f.scale) for f in fields)
        return out

    # ---------------------------------------------------------------- the loop side
    def submit(self, item: Snapshot | Event) -> bool:
        """Enqueue without blocking; False (and counted) when the writer is too far behind."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:  # a stuck disk must not grow memory without bound
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("history writer behind: items dropped", dropped=self.dropped)
            return False
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything queued so far is committed (tests, exports, shutdown)."""
        done = threading.Event()
        self.queue.put(done, timeout=timeout)
        return done.wait(timeout)

    def close(self) -> None:
        self.queue.put(_STOP)

    # ---------------------------------------------------------------- the thread
    def run(self) -> None:
        conn = schema.connect(self.path)
        try:
            schema.create(conn)
            for k, v in self.meta.items():
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))
            conn.commit()
            self._src = dict(conn.execute("SELECT name, id FROM source").fetchall())
            self.last_event_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM event").fetchone()[0]
        finally:
            self.ready.set()
        try:
            self._loop(conn)
        finally:
            conn.close()

    def _loop(self, conn: sqlite3.Connection) -> None:
        while True:
            item = self.queue.get()
            last_commit = time.monotonic()
            stop = False
            flushed: list[threading.Event] = []
            while True:  # everything queued now goes into one transaction (bounded to ~1 s)
                if item is _STOP:
                    stop = True
                    break
                if isinstance(item, threading.Event):
                    flushed.append(item)
                    break
                self._guarded(conn, item)
                if time.monotonic() - last_commit >= self.settings.commit_interval_s:
                    break
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
            if stop:
                self._guarded(conn, None)  # the minute in progress: keep what was measured
            conn.commit()
            for done in flushed:
                done.set()
            if stop:
                return
            if time.monotonic() >= self._next_maintenance:
                self._next_maintenance = time.monotonic() + self.settings.maintenance_interval_s
                self._guarded(conn, "maintenance")

    def _guarded(self, conn: sqlite3.Connection, item: Any) -> None:
        try:
            if item is None:
                self._flush_minute(conn)
            elif item == "maintenance":
                self._maintain(conn)
            elif isinstance(item, Event):
                self._event(conn, item)
            else:
                self._snapshot(conn, item)
        except sqlite3.Error as e:  # disk full, file removed: count, log once, keep serving
            self.errors += 1
            if str(e) != self.last_error:
                log.error("history write failed", error=str(e), errors=self.errors)
                self.last_error = str(e)

    def _source_id(self, conn: sqlite3.Connection, name: str, kind: str) -> int:
        sid = self._src.get(name)
        if sid is None:
            conn.execute("INSERT OR IGNORE INTO source (name, kind) VALUES (?, ?)", (name, kind))
            sid = self._src[name] = conn.execute("SELECT id FROM source WHERE name = ?", (name,)).fetchone()[
                0
            ]
        return sid

    def _event(self, conn: sqlite3.Connection, e: Event) -> None:
        actor = (
            json.dumps(
                {"user": e.actor.user, "role": e.actor.role, "source": e.actor.source, "via": e.actor.via}
            )
            if e.actor
            else None
        )
        row = (
            e.time,
            e.kind,
            e.code,
            e.level,
            e.source,
            e.state,
            actor,
            e.message,
            json.dumps(e.data, default=str) if e.data else None,
        )
        cur = conn.execute(
            "INSERT OR IGNORE INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (e.id or None, *row)
        )
        if cur.rowcount == 0:  # an id already used (bus renumbered): keep the event under a new id
            conn.execute("INSERT INTO event VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def _snapshot(self, conn: sqlite3.Connection, snap: Snapshot) -> None:
        t = snap.time
        self.latest_t = t
        minute = int(t // 60)
        if self._minute is not None and minute != self._minute:
            self._flush_minute(conn)
        if not self._hours_caught_up:
            self._hours_caught_up = True
            self._catch_up_hours(conn, int(t // 3600) * 3600)
        self._minute = minute
        full_rate = {
            s.index for s in snap.strings if getattr(s.mode, "value", s.mode) in self.settings.full_rate_modes
        }
        t_ms = round(t * 1000)
        raw: dict[str, list[tuple[Any, ...]]] = {"unit": [], "string": [], "site": []}
        gap = self.settings.raw_max_gap_s
        for kind, name, values, _ in snapshot_rows(snap):
            acc = self._acc.get(name)
            if acc is None:
                acc = self._acc[name] = MinuteAccumulator(len(values))
            acc.add(values)
            fast = bool(full_rate) and (kind == "site" or int(name[8 : name.index("]")]) in full_rate)
            last = self._last_raw.get(name)
            if fast or last is None or t - last[0] >= gap or self._moved(kind, values, last[1]):
                self._last_raw[name] = (t, values)
                raw[kind].append((self._source_id(conn, name, kind), t_ms, *values))
        for kind, rows in raw.items():
            if rows:
                marks = ", ".join("?" * (2 + len(KINDS[kind])))
                conn.executemany(f"INSERT OR REPLACE INTO {table('raw', kind)} VALUES ({marks})", rows)

    def _moved(self, kind: str, values: tuple[int | None, ...], last: tuple[int | None, ...]) -> bool:
        for v, old, band, rel in zip(
            values, last, self._db_scaled[kind], self._db_relative[kind], strict=True
        ):
            if v == old:
                continue
            if v is None or old is None or abs(v - old) > max(band, rel * abs(old)):
                return True
        return False

    def _flush_minute(self, conn: sqlite3.Connection) -> None:
        if self._minute is None or not self._acc:
            return
        t0 = self._minute * 60
        rows: dict[str, list[list[Any]]] = {"unit": [], "string": [], "site": []}
        for name, acc in self._acc.items():
            kind = schema.kind_of(name)
            rows[kind].append([self._source_id(conn, name, kind), t0, *acc.row(KINDS[kind])])
        for kind, batch in rows.items():
            if batch:
                conn.executemany(upsert_minute_sql(kind), batch)
        self._acc.clear()
        hour = t0 // 3600 * 3600
        if self.latest_t is not None and int(self.latest_t // 3600) * 3600 > hour:
            self._rollup_hour(conn, hour)

    def _catch_up_hours(self, conn: sqlite3.Connection, current_hour: int) -> None:
        """Hours finished while the gateway was down (or killed) get their hourly rollup now."""
        last = conn.execute("SELECT COALESCE(MAX(t), -1) FROM r1h_unit").fetchone()[0]
        hours = conn.execute(
            "SELECT DISTINCT t / 3600 * 3600 FROM r1m_unit WHERE t >= ? AND t < ?",
            (last + 3600 if last >= 0 else 0, current_hour),
        ).fetchall()
        for (h,) in hours:
            self._rollup_hour(conn, h)

    def _rollup_hour(self, conn: sqlite3.Connection, hour: int) -> None:
        for kind in KINDS:
            conn.execute(hour_from_minutes_sql(kind), (hour, hour, hour + 3600))

    def _maintain(self, conn: sqlite3.Connection) -> None:
        if self.latest_t is None:
            return
        s = self.settings
        now = self.latest_t
        cutoffs = {
            "raw": now - s.raw_days * 86400,
            "1m": now - s.rollup_1m_days * 86400,
            "1h": now - s.rollup_1h_days * 86400,
        }
        for tier, cutoff in cutoffs.items():
            self._prune(conn, tier, cutoff)
        conn.execute("DELETE FROM event WHERE time < ?", (now - s.events_days * 86400,))
        conn.commit()
        # over the size budget: drop the oldest day of the finest tier that still has more than one
        for _ in range(1000):
            if self._used_bytes(conn) <= s.size_budget_bytes:
                break
            if not self._drop_oldest_day(conn):
                log.warning("history over its size budget with nothing left to drop")
                break
            conn.commit()
        conn.execute("PRAGMA incremental_vacuum")
        conn.commit()

    @staticmethod
    def _used_bytes(conn: sqlite3.Connection) -> int:
        pages = (
            conn.execute("PRAGMA page_count").fetchone()[0]
            - conn.execute("PRAGMA freelist_count").fetchone()[0]
        )
        return int(pages * conn.execute("PRAGMA page_size").fetchone()[0])

    def _prune(self, conn: sqlite3.Connection, tier: str, cutoff: float) -> None:
        for kind in KINDS:
            t_cut = int(cutoff * 1000) if tier == "raw" else int(cutoff)
            # per source, so the (src, t) primary key does the work instead of a full scan
            for sid in set(self._src.values()):
                conn.execute(f"DELETE FROM {table(tier, kind)} WHERE src = ? AND t < ?", (sid, t_cut))

    def _drop_oldest_day(self, conn: sqlite3.Connection) -> bool:
        for tier in schema.TIERS:
            unit = 1000 if tier == "raw" else 1
            lo, hi = conn.execute(f"SELECT MIN(t), MAX(t) FROM {table(tier, 'unit')}").fetchone()
            if lo is None or hi - lo <= 86400 * unit:
                continue
            self._prune(conn, tier, (lo + 86400 * unit) / unit)
            return True
        return False
