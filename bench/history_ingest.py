"""History ingest: CPU share of one core for 512 units at 1 Hz (target < 5 %), and disk per unit per day.

Reference measured in the same run: a bare ``executemany`` of every sample of every snapshot
into one plain table, committed per snapshot (what "just store it all" costs, no rollups).

    .venv/bin/python bench/history_ingest.py
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from gateway.core.model import Quality, Snapshot, StringMode, StringView, UnitView
from plugins.history_sqlite.rows import snapshot_rows
from plugins.history_sqlite.schema import table
from plugins.history_sqlite.writer import HistoryWriter, WriterSettings

STRINGS, PER_STRING = 4, 128  # 512 units
CPU_SECONDS = 600  # simulated seconds of float for the CPU figure (plus 60 s of discharge)
DISK_UNITS, DISK_HOURS = 16, 6
T0 = 1_750_000_000.0 - 1_750_000_000.0 % 86400


class Site:
    """Float-charged VRLA blocks read by C20 monitors: 1 mV and 0.1 °C steps, noise, a daily swing."""

    def __init__(self, strings: int, per_string: int, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.strings, self.per = strings, per_string
        n = strings * per_string
        self.v0 = 13.62 + self.rng.normal(0, 0.04, n)
        self.t0 = 25.0 + self.rng.normal(0, 0.5, n)
        self.ri = 0.004 * (1 + self.rng.normal(0, 0.05, n))
        self.duty = np.clip(self.rng.normal(0.1, 0.05, n), 0, 1)

    def snapshot(self, t: float, mode: StringMode = StringMode.FLOAT) -> Snapshot:
        n = self.strings * self.per
        swing = 1.5 * math.sin(2 * math.pi * (t - T0) / 86400)
        discharging = mode == StringMode.DISCHARGE
        v = np.round(self.v0 - (1.6 if discharging else 0.0) + self.rng.normal(0, 0.002, n), 3)
        temp = np.round(self.t0 + swing + self.rng.normal(0, 0.05, n), 1)
        if int(t) % 60 == 0:  # equalization adjusts duties about once a minute
            self.duty = np.clip(self.duty + self.rng.normal(0, 0.01, n), 0, 1)
        views = []
        for s in range(self.strings):
            units = tuple(
                UnitView(
                    string=s,
                    position=p + 1,
                    model="C20",
                    bus=f"bus{s + 1}",
                    address=p + 1,
                    channel=0,
                    voltage_v=float(v[s * self.per + p]),
                    temperature_c=float(temp[s * self.per + p]),
                    ri_ohm=float(self.ri[s * self.per + p]),
                    ri_baseline_ohm=0.004,
                    soc=1.0,
                    soh=0.97,
                    psoc=False,
                    equalize_duty=round(float(self.duty[s * self.per + p]), 3),
                    status="ok",
                    quality=Quality.GOOD,
                    updated_at=t,
                )
                for p in range(self.per)
            )
            total = float(v[s * self.per : (s + 1) * self.per].sum())
            views.append(
                StringView(
                    index=s,
                    name=f"S{s}",
                    chemistry="vrla",
                    voltage_v=round(total, 2),
                    current_a=-40.0 if discharging else round(0.2 + self.rng.normal(0, 0.02), 2),
                    ripple_a=1.0,
                    spread_v=0.1,
                    soc=1.0,
                    runtime_s=None,
                    mode=mode,
                    units=units,
                )
            )
        return Snapshot(
            version=int(t), time=t, site_name="bench", strings=tuple(views), ambient_c=24.0, humidity_pct=40.0
        )


def ingest(path: Path, snaps: list[Snapshot], settings: WriterSettings) -> float:
    """Process CPU seconds (loop side and writer thread) to write ``snaps``."""
    w = HistoryWriter(str(path), settings, maxsize=100_000)  # the bench feeds faster than real time
    w.start()
    w.ready.wait()
    t0 = time.process_time()
    for s in snaps:
        while not w.submit(s):
            time.sleep(0.001)
    w.flush()
    cpu = time.process_time() - t0
    w.close()
    w.join()
    return cpu


def reference(path: Path, snaps: list[Snapshot]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE s (src TEXT, t INTEGER, a, b, c, d, e, f, g)")
    t0 = time.process_time()
    for snap in snaps:
        t_ms = round(snap.time * 1000)
        rows = [
            (name, t_ms, *values, *([None] * (7 - len(values)))) for _, name, values, _ in snapshot_rows(snap)
        ]
        conn.executemany("INSERT INTO s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
    cpu = time.process_time() - t0
    conn.close()
    return cpu


def disk_per_unit_day(folder: Path) -> dict[str, float]:
    site = Site(1, DISK_UNITS, seed=11)
    path = folder / "disk.sqlite"
    seconds = DISK_HOURS * 3600
    w = HistoryWriter(str(path), WriterSettings(maintenance_interval_s=1e9), maxsize=100_000)
    w.start()
    w.ready.wait()
    for k in range(seconds):
        while not w.submit(site.snapshot(T0 + k)):
            time.sleep(0.001)
    w.flush()
    w.close()
    w.join()
    conn = sqlite3.connect(path)
    # used bytes of each table's pages: whole pages would overstate the small hourly table
    sizes = dict(conn.execute("SELECT name, SUM(pgsize - unused) FROM dbstat GROUP BY name").fetchall())
    conn.close()
    scale = 24 / DISK_HOURS / DISK_UNITS
    return {
        tier: sum(sizes.get(table(tier, k), 0) for k in ("unit", "string", "site")) * scale
        for tier in ("raw", "1m", "1h")
    }


def main() -> None:
    site = Site(STRINGS, PER_STRING)
    snaps = [site.snapshot(T0 + k) for k in range(CPU_SECONDS)]
    snaps += [site.snapshot(T0 + CPU_SECONDS + k, StringMode.DISCHARGE) for k in range(60)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = ingest(folder / "ours.sqlite", snaps, WriterSettings())
        ref = reference(folder / "ref.sqlite", snaps)
        per_day = disk_per_unit_day(folder)
    n = len(snaps)
    units = STRINGS * PER_STRING
    share = ours / n * 100  # CPU seconds per simulated second at 1 Hz, in % of one core
    print(f"ingest, {units} units at 1 Hz ({CPU_SECONDS} s float + 60 s discharge):")
    print(
        f"  cellgate history : {ours / n * 1000:7.2f} ms CPU per snapshot = {share:.2f} % of one core "
        f"(target < 5 %)"
    )
    print(
        f"  reference        : {ref / n * 1000:7.2f} ms CPU per snapshot (bare executemany of every sample)"
    )
    print(f"  ratio            : {ours / ref:.2f}x the reference")
    raw, m1, h1 = per_day["raw"], per_day["1m"], per_day["1h"]
    print(f"disk per unit per day (float, {DISK_UNITS} units x {DISK_HOURS} h, extrapolated):")
    print(f"  raw {raw / 1024:.1f} KiB, 1-min rollups {m1 / 1024:.1f} KiB, hourly {h1:.0f} B")
    steady = raw * 7 + m1 * 35 + h1 * 365
    print(
        f"  defaults (raw 7 d, 1 min 35 d, 1 h kept): {steady / 2**20:.2f} MiB per unit after a year; "
        f"hourly alone {h1:.0f} B/day vs ~700 B/day in the commercial anchor's ring buffer"
    )


if __name__ == "__main__":
    main()
