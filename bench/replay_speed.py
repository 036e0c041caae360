"""Replay speed: a 4 h, 24-unit trace (10-s rows) through `cellgate replay` (target <= 5 s),
against a reference measured in the same run: only reading the trace and writing the outputs.

    .venv/bin/python bench/replay_speed.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from gateway.core.engine.replay import replay
from gateway.core.engine.trace import read_trace, write_estimates

HOURS, UNITS, STEP_S = 4.0, 24, 10.0


def make_trace(folder: Path) -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0.0, HOURS * 3600.0 + 1, STEP_S)
    i = np.where((t > 3600) & (t < 4500), -25.0, 0.1)
    v = np.where(i[:, None] < 0, 12.0, 13.6) + rng.normal(0, 0.02, (t.size, UNITS))
    temp = 25 + rng.normal(0, 0.2, (t.size, UNITS))
    ri = np.full((t.size, UNITS), np.nan)
    ri[30] = 0.004
    (folder / "meta.yaml").write_text(
        f"chemistry: vrla\nunits: {UNITS}\nnominal_voltage_v: 12.0\nrated_capacity_ah: 100.0\n"
        f"model: C20\nsample_period_s: {STEP_S:g}\n"
    )
    cols = ["t_s", "current_a", "ambient_c"] + [
        f"{p}_{k:02d}" for p in ("v", "temp", "ri") for k in range(1, UNITS + 1)
    ]
    table = np.column_stack([t, i, np.full(t.size, 25.0), v, temp, ri])
    with (folder / "series.csv").open("w") as f:
        f.write(",".join(cols) + "\n")
        for row in table:
            f.write(",".join("" if np.isnan(x) else f"{x:.4f}" for x in row) + "\n")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        make_trace(d)
        t0 = time.perf_counter()
        tr = read_trace(d)
        n = tr.t_s.size
        write_estimates(d / "ref.csv", tr.t_s, np.ones((n, UNITS)), np.ones(n), np.full(n, np.nan))
        ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        replay(d, d / "out")
        s = time.perf_counter() - t0
    print(
        f"replay of {HOURS:g} h x {UNITS} units ({n} rows): {s:.2f} s "
        f"(target 5 s: {'ok' if s <= 5 else 'OVER'}); "
        f"{s / ref:.1f}x reading the trace and writing the outputs alone ({ref:.2f} s)"
    )
