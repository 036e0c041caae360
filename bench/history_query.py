"""History query: a 30-day 1-minute trend of one unit (target < 100 ms), in a file holding 64 units.

Reference measured in the same run: the bare SQL ``SELECT`` of the same rows (no scaling, no
lists per field, no connection set-up).

    .venv/bin/python bench/history_query.py
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from gateway.core.clock import RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from plugins.history_sqlite import schema
from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig

UNITS, DAYS, REPEAT = 64, 30, 10
T0 = 1_750_000_000 - 1_750_000_000 % 86400
FIELDS = ["voltage_v", "voltage_v_min", "voltage_v_max", "temperature_c"]


def build(path: Path) -> None:
    """30 days of 1-minute rollups for every unit, written straight into the table."""
    conn = schema.connect(str(path))
    schema.create(conn)
    rng = np.random.default_rng(3)
    minutes = np.arange(DAYS * 1440)
    cols = len(schema.rollup_columns("unit"))
    for u in range(UNITS):
        sid = conn.execute(
            "INSERT INTO source (name, kind) VALUES (?, 'unit')", (f"strings[0].units[{u}]",)
        ).lastrowid
        v = (136200 + rng.normal(0, 20, minutes.size)).astype(int)
        rows = [
            (
                sid,
                T0 + 60 * int(m),
                60,
                int(v[m]),
                -30,  # min and max are stored as offsets from the mean
                30,
                2500,
                -10,
                10,
                40000,
                0,
                0,
                *([10000, 0, 0] * ((cols - 10) // 3)),
                0,
            )
            for m in minutes
        ]
        marks = ", ".join("?" * (3 + cols))
        conn.executemany(f"INSERT INTO r1m_unit VALUES ({marks})", rows)
    conn.commit()
    conn.close()


def reference_ms(path: Path, source_id: int, columns: str) -> float:
    conn = sqlite3.connect(path)
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        conn.execute(
            "SELECT t, voltage_v_mean, voltage_v_mean + voltage_v_min, voltage_v_mean + voltage_v_max, "
            "temperature_c_mean FROM r1m_unit "
            "WHERE src = ? AND t >= ? AND t <= ? ORDER BY t",
            (source_id, T0, T0 + DAYS * 86400),
        ).fetchall()
        best = min(best, time.perf_counter() - t0)
    conn.close()
    return best * 1000


async def ours_ms(folder: Path, fields: list[str]) -> tuple[float, int]:
    ctx = GatewayContext(
        clock=RealClock(),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=folder,
        data_dir=folder,
        config=SimpleNamespace(strings=[]),
    )
    sink = SqliteHistory(SqliteHistoryConfig(path="bench.sqlite"), ctx)
    await sink.start()
    best, n = float("inf"), 0
    try:
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            got = await sink.series("strings[0].units[17]", fields, T0, T0 + DAYS * 86400, "1m")
            best = min(best, time.perf_counter() - t0)
            n = len(got["t"])
    finally:
        await sink.stop()
    return best * 1000, n


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "bench.sqlite"
        t0 = time.perf_counter()
        build(path)
        built = time.perf_counter() - t0
        one, n = asyncio.run(ours_ms(folder, ["voltage_v"]))
        four, _ = asyncio.run(ours_ms(folder, FIELDS))
        ref_one = reference_ms(path, 18, "voltage_v_mean")
        ref_four = reference_ms(path, 18, "voltage_v_mean, voltage_v_min, voltage_v_max, temperature_c_mean")
        size = path.stat().st_size
    mib = size / 2**20
    print(f"file: {UNITS} units x {DAYS} days of 1-minute rollups, {mib:.0f} MiB, built in {built:.0f} s")
    print(f"30-day 1-minute trend of one unit ({n} points), best of {REPEAT} (target < 100 ms):")
    print(
        f"  voltage mean     : ours {one:6.1f} ms, bare SELECT {ref_one:6.1f} ms, ratio {one / ref_one:.2f}x"
    )
    r4 = four / ref_four
    print(f"  + min, max, temp : ours {four:6.1f} ms, bare SELECT {ref_four:6.1f} ms, ratio {r4:.2f}x")


if __name__ == "__main__":
    main()
