"""The tests' own scoring of a replay against ground truth, written from the spec's
definitions (specs/replay-and-cosim.md, data README), independent of the engine's code.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DATA = Path(__file__).resolve().parent.parent / "data" / "groundtruth"
HOUR_S = 3600.0
#: codes that name a failing unit (the spec's weak_unit, low_capacity, ri_rise, ri_high and kin)
FAIL_WORDS = ("weak", "capacity", "ri", "resistance", "fail")


@dataclass
class Truth:
    t: np.ndarray
    soc: np.ndarray  # rows × units
    units: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def discharges(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == "discharge"]


def load_truth(trace: Path) -> Truth:
    tr = np.loadtxt(trace / "truth.csv", delimiter=",", skiprows=1, ndmin=2)
    meta = yaml.safe_load((trace / "truth.yaml").read_text())
    units = sorted(meta["units"], key=lambda u: u["position"])
    return Truth(tr[:, 0], tr[:, 1:], units, meta.get("events", []))


@dataclass
class Estimates:
    t: np.ndarray
    soc: np.ndarray
    string_soc: np.ndarray
    runtime: np.ndarray
    summary: dict[str, Any]


def load_estimates(out: Path, n: int) -> Estimates:
    with (out / "estimates.csv").open() as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header == ["t_s", *[f"soc_{i:02d}" for i in range(1, n + 1)], "string_soc", "runtime_s"]
    data = np.array([[float(x) if x else math.nan for x in r] for r in rows[1:]])
    summary = json.loads((out / "summary.json").read_text())
    return Estimates(data[:, 0], data[:, 1 : n + 1], data[:, n + 1], data[:, n + 2], summary)


def discharge_window(truth: Truth) -> np.ndarray:
    """Rows during a discharge and the hour after it."""
    w = np.zeros(truth.t.size, bool)
    for e in truth.discharges:
        w |= (truth.t >= e["t_start_s"]) & (truth.t <= e["t_end_s"] + HOUR_S)
    return w


def soc_errors(truth: Truth, est: Estimates, rows: np.ndarray) -> tuple[float, float]:
    """RMSE and max absolute SOC error (fractions) over the selected rows and every unit."""
    err = (est.soc - truth.soc)[rows]
    return float(np.sqrt(np.mean(err**2))), float(np.max(np.abs(err)))


def runtime_median_error(truth: Truth, est: Estimates) -> float:
    """Median relative runtime error from 20 % of each discharge to its end (pooled)."""
    errs: list[float] = []
    for e in truth.discharges:
        end, t0 = e["runtime_end_t_s"], e["t_start_s"]
        sel = (truth.t >= t0 + 0.2 * (end - t0)) & (truth.t < min(e["t_end_s"], end) - 1.0)
        remaining = end - truth.t[sel]
        pred = est.runtime[sel]
        assert np.isfinite(pred).all(), "runtime missing during a discharge"
        errs += list(np.abs(pred - remaining) / remaining)
    return float(np.median(errs))


def flags(est: Estimates, position: int) -> list[tuple[float, str]]:
    unit = next(u for u in est.summary["units"] if u["position"] == position)
    return sorted((f["t_s"], f["code"]) for f in unit["flags"])


def is_failure_code(code: str) -> bool:
    words = code.lower().replace("-", "_").split("_")
    return any(w in FAIL_WORDS for w in words)


def run_replay(trace: Path, out: Path) -> tuple[Truth, Estimates]:
    """``cellgate replay TRACE --out OUT`` as the user runs it (the CLI command class); the
    truth and the estimates, ready to score."""
    from gateway.core.engine.replay import ReplayCommand  # the engine only here, not in scoring

    cmd = ReplayCommand()
    parser = argparse.ArgumentParser()
    cmd.configure(parser)
    assert cmd.run(parser.parse_args([str(trace), "--out", str(out)])) == 0
    truth = load_truth(trace)
    return truth, load_estimates(out, truth.soc.shape[1])
