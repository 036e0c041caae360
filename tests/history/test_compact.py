"""The compact rollup encoding: min/max as offsets from the mean, merged across a restart,
and history files of schema version 1 (absolute min/max) converted in place."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from plugins.history_sqlite import schema
from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig
from tests.history.site import T0, context, snapshot, voltage


async def _write(tmp_path: Path, start: float, seconds: int) -> None:
    sink = SqliteHistory(SqliteHistoryConfig(), context(tmp_path))
    await sink.start()
    try:
        for k in range(seconds):
            await sink.write(snapshot(start + k, version=k))
            while sink.writer and sink.writer.queue.qsize() > 100:
                await asyncio.sleep(0.005)
        await sink.flush()
    finally:
        await sink.stop()


async def test_a_minute_split_by_a_restart_keeps_its_true_mean_min_and_max(tmp_path: Path) -> None:
    minute = T0 + 600  # unit 3's voltage falls steeply here, so both halves differ
    await _write(tmp_path, minute, 25)
    await _write(tmp_path, minute + 25, 35)
    sink = SqliteHistory(SqliteHistoryConfig(), context(tmp_path))
    await sink.start()
    try:
        m = await sink.series(
            "strings[0].units[2]", ["voltage_v", "voltage_v_min", "voltage_v_max", "n"], minute, minute, "1m"
        )
    finally:
        await sink.stop()
    samples = [voltage(minute + s, 3) for s in range(60)]
    assert m["n"] == [60]
    assert m["voltage_v"][0] == pytest.approx(sum(samples) / 60, abs=2e-4)
    assert m["voltage_v_min"][0] == pytest.approx(min(samples), abs=2e-4)
    assert m["voltage_v_max"][0] == pytest.approx(max(samples), abs=2e-4)


def test_a_version_1_file_is_converted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = schema.connect(str(path))
    schema.create(conn)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("INSERT INTO source (id, name, kind) VALUES (1, 'strings[0].units[0]', 'unit')")
    cols = schema.rollup_columns("unit")
    absolute = {"voltage_v_mean": 136_200, "voltage_v_min": 136_000, "voltage_v_max": 136_500}
    values = [absolute.get(c, 0) for c in cols]
    conn.execute(f"INSERT INTO r1m_unit VALUES (1, {int(T0)}, 60, {', '.join('?' * len(cols))})", values)
    conn.commit()
    schema.create(conn)  # what opening the file does
    conn.close()
    conn = sqlite3.connect(path)
    lo, hi = (schema.rollup_expr(c) for c in ("voltage_v_min", "voltage_v_max"))
    mean, lo, hi = conn.execute(f"SELECT voltage_v_mean, {lo}, {hi} FROM r1m_unit").fetchone()
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    conn.close()
    assert (mean, lo, hi) == (136_200, 136_000, 136_500)
    assert version == str(schema.SCHEMA_VERSION)
