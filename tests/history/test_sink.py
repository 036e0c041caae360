"""The SQLite history through its sink and reader API: samples, rollups, events, retention."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from gateway.core.commands import Actor
from gateway.core.events import Event
from gateway.core.model import StringMode
from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig
from tests.history.site import T0, context, snapshot, voltage


async def _run(
    tmp_path: Path, seconds: int, *, mode: StringMode = StringMode.FLOAT, start: float = T0, **cfg: object
) -> SqliteHistory:
    sink = SqliteHistory(SqliteHistoryConfig(**cfg), context(tmp_path))
    await sink.start()
    for k in range(seconds):
        await sink.write(snapshot(start + k, mode=mode, version=k))
        while sink.writer and sink.writer.queue.qsize() > 100:  # faster than real time: let it catch up
            await asyncio.sleep(0.005)
    await sink.flush()
    return sink


async def test_rollups_hold_mean_min_max_of_every_sample(tmp_path: Path) -> None:
    sink = await _run(tmp_path, 3 * 3600 + 5)
    await sink.stop()
    sink = SqliteHistory(SqliteHistoryConfig(), context(tmp_path))
    await sink.start()
    try:
        m = await sink.series(
            "strings[0].units[4]",
            ["voltage_v", "voltage_v_min", "voltage_v_max", "n"],
            T0,
            T0 + 3 * 3600,
            "1m",
        )
        assert len(m["t"]) == 181  # 180 whole minutes and the part-minute flushed at stop
        assert m["n"][:180] == [60] * 180
        samples = [voltage(T0 + s, 5) for s in range(60)]
        assert m["voltage_v"][0] == pytest.approx(sum(samples) / 60, abs=1e-4)
        assert m["voltage_v_min"][0] == pytest.approx(min(samples), abs=1e-4)
        assert m["voltage_v_max"][0] == pytest.approx(max(samples), abs=1e-4)
        h = await sink.series("strings[0].units[4]", ["voltage_v", "voltage_v_max"], T0, T0 + 3 * 3600, "1h")
        assert h["t"] == [T0, T0 + 3600, T0 + 7200]
        hour = [voltage(T0 + s, 5) for s in range(3600)]
        assert h["voltage_v"][0] == pytest.approx(sum(hour) / 3600, abs=1e-4)
        assert h["voltage_v_max"][1] == pytest.approx(
            max(voltage(T0 + 3600 + s, 5) for s in range(3600)), abs=1e-4
        )
        site = await sink.series("site", ["ambient_c"], T0, T0 + 3600, "1m")
        assert set(site["ambient_c"]) == {24.0}
        auto = await sink.series("strings[0]", ["current_a"], T0, T0 + 20 * 86400)
        assert auto["t"] == h["t"]  # 20 days: hourly points are enough
    finally:
        await sink.stop()


async def test_raw_samples_are_thinned_on_float_and_kept_at_full_rate_in_discharge(tmp_path: Path) -> None:
    sink = await _run(tmp_path, 600)
    await sink.stop()
    sink = await _run(tmp_path, 600, mode=StringMode.DISCHARGE, start=T0 + 600)
    try:
        # unit 3's voltage falls by ~90 mV in these 10 minutes
        floating = await sink.series("strings[0].units[2]", ["voltage_v"], T0, T0 + 599, "raw")
        assert 3 <= len(floating["t"]) < 20  # far fewer than 600 samples ...
        held = dict(zip(floating["t"], floating["voltage_v"], strict=True))
        current = None
        band = 0.0015 * 13.6  # ... yet the last kept sample is never more than the deadband off
        for s in range(600):
            current = held.get(T0 + s, current)
            assert current == pytest.approx(voltage(T0 + s, 3), abs=band)
        discharging = await sink.series("strings[0].units[0]", ["voltage_v"], T0 + 600, T0 + 1199, "raw")
        assert len(discharging["t"]) == 600
    finally:
        await sink.stop()


async def test_events_are_persisted_numbered_and_queryable(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    sink = SqliteHistory(SqliteHistoryConfig(), ctx)
    await sink.start()
    olga = Actor("olga", "operator", "10.1.1.1", "web")
    ctx.events.publish(
        Event(
            T0,
            "alarm",
            "unit_voltage_high",
            "high",
            "alarm",
            "strings[0].units[3]",
            "raised",
            data={"alarm_id": 1, "value": 14.8},
        )
    )
    ctx.events.publish(Event(T0 + 5, "command", "ack_alarm", "ack", actor=olga))
    await sink.stop()

    ctx = context(tmp_path)
    sink = SqliteHistory(SqliteHistoryConfig(), ctx)
    await sink.start()
    try:
        third = ctx.events.publish(Event(T0 + 9, "login", "login", "olga logged in", actor=olga))
        assert third.id == 3  # numbering continues after what is stored
        await sink.flush()
        got = await sink.events()
        assert [(e.id, e.code) for e in got] == [(1, "unit_voltage_high"), (2, "ack_alarm"), (3, "login")]
        assert got[0].data == {"alarm_id": 1, "value": 14.8}
        assert got[1].actor == olga
        assert [e.code for e in await sink.events(kind="command")] == ["ack_alarm"]
        assert [e.id for e in await sink.events(since_id=1, t_to=T0 + 5)] == [2]
    finally:
        await sink.stop()


async def test_retention_drops_old_raw_samples_but_keeps_rollups(tmp_path: Path) -> None:
    sink = await _run(tmp_path, 120, raw_days=1.0)
    await sink.stop()
    later = T0 + 2 * 86400
    sink = await _run(tmp_path, 120, start=later, raw_days=1.0)
    await sink.stop()  # maintenance ran at start: the first write of the new run
    conn = sqlite3.connect(tmp_path / "var" / "history.sqlite")
    try:
        oldest_raw = conn.execute("SELECT MIN(t) FROM raw_unit").fetchone()[0] / 1000
        assert oldest_raw >= later - 86400
        assert conn.execute("SELECT MIN(t) FROM r1m_unit").fetchone()[0] == T0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_unknown_sources_and_fields_are_clear_errors(tmp_path: Path) -> None:
    sink = await _run(tmp_path, 5)
    try:
        with pytest.raises(ValueError, match="unknown history source"):
            await sink.series("bogus", ["voltage_v"], T0, T0 + 10, "raw")
        with pytest.raises(ValueError, match="unknown field 'volts'"):
            await sink.series("strings[0].units[0]", ["volts"], T0, T0 + 10, "raw")
        empty = await sink.series("strings[7].units[0]", ["voltage_v"], T0, T0 + 10, "raw")
        assert empty == {"t": [], "voltage_v": []}
    finally:
        await sink.stop()


async def test_over_its_size_budget_the_oldest_day_of_raw_samples_goes_first(tmp_path: Path) -> None:
    budget_mb = 1.5
    for day in (0, 2):  # two discharges (full rate), about 1.2 MB each, two days apart
        sink = await _run(tmp_path, 1200, mode=StringMode.DISCHARGE, start=T0 + day * 86400, raw_days=30.0)
        await sink.stop()
    sink = await _run(tmp_path, 5, start=T0 + 3 * 86400, raw_days=30.0, size_budget_mb=budget_mb)
    await sink.stop()  # maintenance ran at start: the first write of this run
    conn = sqlite3.connect(tmp_path / "var" / "history.sqlite")
    try:
        assert conn.execute("SELECT MIN(t) FROM raw_unit").fetchone()[0] / 1000 >= T0 + 86400
        assert conn.execute("SELECT MIN(t) FROM r1m_unit").fetchone()[0] == T0  # rollups stay
        pages, free, size = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
        assert (pages - free) * size <= budget_mb * 1024 * 1024
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
