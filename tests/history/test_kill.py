"""kill -9 during heavy writes: the file passes its integrity check and at most the last second is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig
from tests.history.site import T0, context, snapshot

ROOT = Path(__file__).resolve().parents[2]


def _kill_during_writes(tmp_path: Path, after_s: float) -> tuple[float, list[tuple[int, float]]]:
    progress = tmp_path / "progress.txt"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.history.kill_writer", str(tmp_path), str(progress)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not progress.exists() or progress.stat().st_size == 0:  # started writing
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.05)
        time.sleep(after_s)
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if child.stderr:
            child.stderr.close()
    done = [
        (int(k), float(m)) for k, m in (ln.split() for ln in progress.read_text().splitlines() if ln.strip())
    ]
    return killed_at, done


def test_kill_minus_nine_loses_at_most_the_last_second(tmp_path: Path) -> None:
    killed_at, submitted = _kill_during_writes(tmp_path, after_s=3.3)
    assert len(submitted) > 20
    db = tmp_path / "var" / "history.sqlite"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {t for (t,) in conn.execute("SELECT DISTINCT t FROM raw_string")}
        per_t = dict(conn.execute("SELECT t, COUNT(*) FROM raw_unit GROUP BY t").fetchall())
        events = {k for (k,) in conn.execute("SELECT json_extract(data, '$.k') FROM event")}
    finally:
        conn.close()
    # and Debian's sqlite3 tool agrees (scripts/peers/alarms-history.sh installs it)
    check = subprocess.run(
        ["sqlite3", str(db), "PRAGMA integrity_check"], capture_output=True, text=True, timeout=60, check=True
    )
    assert check.stdout.strip() == "ok"
    older = [k for k, mono in submitted if mono < killed_at - 1.0]
    assert older, "nothing was submitted more than a second before the kill"
    missing = [k for k in older if round((T0 + k) * 1000) not in stored]
    assert not missing, f"{len(missing)} snapshots older than 1 s lost, first {missing[:5]}"
    assert all(per_t[round((T0 + k) * 1000)] == 512 for k in older)  # whole snapshots, never half
    assert set(older) <= events


async def test_the_file_reopens_and_writes_on_after_a_kill(tmp_path: Path) -> None:
    _kill_during_writes(tmp_path, after_s=1.5)
    sink = SqliteHistory(SqliteHistoryConfig(), context(tmp_path, count=128, strings=4))
    await sink.start()
    try:
        await sink.write(snapshot(T0 + 10_000, count=128, strings=4))
        await sink.flush()
        got = await sink.series("strings[3].units[127]", ["voltage_v"], T0 + 10_000, T0 + 10_000, "raw")
        assert len(got["t"]) == 1
    finally:
        await sink.stop()
