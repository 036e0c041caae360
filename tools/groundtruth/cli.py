"""Command line: ``python -m tools.groundtruth SCENARIO OUTDIR [--seed N]`` makes one trace folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pybamm

from tools.groundtruth.chemistry import CELSIUS_TO_KELVIN, Chemistry
from tools.groundtruth.lead_acid import LeadAcid
from tools.groundtruth.lfp import LFP
from tools.groundtruth.scenarios import SCENARIOS
from tools.groundtruth.sensors import measure
from tools.groundtruth.series_string import SeriesString
from tools.groundtruth.timeline import row_times, run_steps
from tools.groundtruth.truth_document import truth_document
from tools.groundtruth.unit_spread import draw_units
from tools.groundtruth.writers import write_meta, write_series, write_truth_csv, write_truth_yaml


class ProgressLog:
    """Progress lines on stdout with the seconds since the start (a trace takes ~30-45 s)."""

    def __init__(self) -> None:
        self.start = time.time()

    def __call__(self, *parts: object) -> None:
        print(f"[{time.time() - self.start:6.1f} s]", *parts, flush=True)


def generate(name: str, outdir: Path, seed: int | None = None) -> None:
    """Simulate scenario `name` and write its four files into `outdir`.

    The random draws come in a fixed order (failing position, unit spread, then the sensors after
    the simulation), so a seed gives the same files on every run.
    """
    scenario = SCENARIOS[name]
    seed = scenario.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    log = ProgressLog()
    chem: Chemistry = (
        LeadAcid(scenario.ambient_c) if scenario.chemistry == "vrla" else LFP(scenario.ambient_c)
    )
    n = scenario.units
    log(
        f"calibrated: base area scale {chem.base_scale:.4f}, I10 {chem.i10_nom:.4f} A, "
        f"C10 nominal {chem.c10_nom:.4f} Ah"
    )
    r_model_nom = chem.pulse_resistance()
    log(f"nominal model pulse resistance {r_model_nom * 1000:.3f} mOhm")

    units = draw_units(rng, n, chem, r_model_nom, scenario.ambient_c)
    caps, caps_amb = units.capacity_ah, units.capacity_ah_at_ambient
    log(
        f"capacities {caps.min():.3f}..{caps.max():.3f} Ah (failing #{units.failing_position}: "
        f"{caps[units.failing_position - 1]:.3f}); at ambient {caps_amb.min():.3f}..{caps_amb.max():.3f} Ah"
    )

    string = SeriesString(chem, units.scales, units.series_r)
    timeline = run_steps(string, scenario.steps, log)

    rows = row_times(timeline.t_total, timeline.discharge_windows)
    log(f"final solve: {rows.size} rows, {timeline.t_total / 3600:.2f} h")
    knots_t = np.array(string.knots_t)
    if np.any(np.diff(knots_t) <= 0):
        raise RuntimeError(f"knots not increasing at {knots_t[np.nonzero(np.diff(knots_t) <= 0)[0][:5]]}")
    r = string.solve(string.knots_t, string.knots_i, timeline.t_total, rows)
    if np.any(~np.isfinite(r.unit_v)):
        raise RuntimeError("NaN in final solve")
    soc = np.minimum(1.0, 1.0 - r.discharged_ah / units.capacity_ah[None, :])

    measured = measure(rng, chem, scenario.ambient_c, rows, r.current, r.unit_v, r.unit_temp_c, units.ri_ohm)

    outdir.mkdir(parents=True, exist_ok=True)
    write_meta(outdir, chem, n)
    write_series(outdir, chem, rows, measured)
    write_truth_csv(outdir, rows, soc)
    # measured before the document is built: its solves count in unit_solves
    c10_at_ambient = (
        chem.c10_nom
        if abs(scenario.ambient_c - 25) < 1e-9
        else chem.measure_c10([1.0], scenario.ambient_c + CELSIUS_TO_KELVIN)[0]
    )
    truth = truth_document(
        name, scenario, seed, chem, r_model_nom, c10_at_ambient, units, timeline, measured, int(rows.size)
    )
    write_truth_yaml(outdir, truth)
    log(f"wrote {outdir} ({rows.size} rows)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.groundtruth",
        description="Make a PyBaMM ground-truth trace (meta.yaml, series.csv, truth.csv, truth.yaml).",
    )
    parser.add_argument("scenario", choices=sorted(SCENARIOS), help="which scenario to simulate")
    parser.add_argument("outdir", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's own)")
    args = parser.parse_args(argv)
    pybamm.set_logging_level("ERROR")
    generate(args.scenario, args.outdir, args.seed)
    return 0
