"""The engine on variants of the public traces, as other sites record them: a slower bus
cycle, a long rest after an outage, the same string through a second outage. Each variant is
built from a public trace by transforming its rows (the truth rows stay aligned)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.engine.scoring import DATA, run_replay, runtime_median_error


def variant(name: str, out: Path, rows_of: Callable[[list[str]], list[str]]) -> Path:
    """A copy of a public trace whose series and truth rows (the same rows) went through ``rows_of``."""
    out.mkdir(parents=True)
    for f in ("meta.yaml", "truth.yaml"):
        (out / f).write_bytes((DATA / name / f).read_bytes())
    for f in ("series.csv", "truth.csv"):
        header, *rows = (DATA / name / f).read_text().splitlines()
        (out / f).write_text("\n".join([header, *rows_of(rows)]) + "\n")
    return out


def t_of(row: str) -> float:
    return float(row.split(",", 1)[0])


def decimated(name: str, every: int, out: Path) -> Path:
    """Every ``every``-th row: what a slower bus cycle records."""
    return variant(name, out, lambda rows: rows[::every])


def with_longer_rest(name: str, after_s: float, extra_s: float, out: Path) -> Path:
    """Cut at ``after_s`` (inside a rest), then the last row repeated every minute for ``extra_s``."""

    def rows_of(rows: list[str]) -> list[str]:
        kept = [r for r in rows if t_of(r) <= after_s]
        t0, rest = t_of(kept[-1]), kept[-1].split(",", 1)[1]
        return kept + [f"{t0 + 60.0 * k},{rest}" for k in range(1, int(extra_s / 60.0) + 1)]

    return variant(name, out, rows_of)


def twice(name: str, out: Path) -> tuple[Path, float]:
    """The trace run twice in a row (it ends charged and rested, as it began); the second start."""
    last = (DATA / name / "series.csv").read_text().splitlines()[-1]
    second = t_of(last) + 60.0

    def rows_of(rows: list[str]) -> list[str]:
        return rows + [f"{t_of(r) + second},{r.split(',', 1)[1]}" for r in rows]

    return variant(name, out, rows_of), second


def test_lfp_soc_holds_through_a_long_rest_on_the_plateau(tmp_path: Path) -> None:
    # After the outage the healthy cells rest at ~51 %, on LFP's flat plateau, where the
    # generic OCV curve is ~30 mV off this cell design: reading SOC from it would pull them
    # to ~32 % (an OCV read is used only where the curve is steep, at the knees).
    trace = with_longer_rest("lfp16-outage", 3900.0, 3 * 3600.0, tmp_path / "trace")
    truth, est = run_replay(trace, tmp_path / "out")
    healthy = [i for i, u in enumerate(truth.units) if not u["failing"]]
    late = truth.t > 3900.0 + 2 * 3600.0
    assert np.abs(est.soc[late][:, healthy] - truth.soc[late][:, healthy]).max() <= 0.03


def test_vrla_second_outage_runtime_uses_the_rate_law_the_first_taught(tmp_path: Path) -> None:
    # The first outage runs the failing block to its end voltage: what it gave at that rate
    # replaces the generic Peukert exponent. First outage: 19.6 % off; second: 1.7 % (8.3 %
    # with the capacity learnt in the first but the generic exponent).
    trace, second = twice("vrla24-full-outage", tmp_path / "trace")
    truth, est = run_replay(trace, tmp_path / "out")
    again = [
        {k: v + second if k.endswith("_s") and isinstance(v, float) else v for k, v in e.items()}
        for e in truth.events
    ]
    assert runtime_median_error(dataclasses.replace(truth, events=again), est) <= 0.05


def test_lfp_second_outage_uses_the_capacity_the_recharge_taught(tmp_path: Path) -> None:
    trace, second = twice("lfp16-outage", tmp_path / "trace")
    truth, est = run_replay(trace, tmp_path / "out")
    later = truth.t >= second
    err = est.soc[later] - truth.soc[later]
    assert np.sqrt(np.mean(err**2)) <= 0.02  # the target, met from the second outage on
    assert np.abs(err).max() <= 0.10  # 20.6 % on the first; the 5 % target is still not met


def test_vrla_soc_holds_through_a_long_rest_after_the_outage(tmp_path: Path) -> None:
    # 4 h without a recharge: the OCV read after 2 h (the generic curve reads the failing block
    # 9 % low) must not undo what coulomb counting and the learnt capacity knew
    trace = with_longer_rest("vrla24-full-outage", 3800.0, 4 * 3600.0, tmp_path / "trace")
    truth, est = run_replay(trace, tmp_path / "out")
    late = truth.t > 2664.0
    assert np.abs(est.soc[late] - truth.soc[late]).max() <= 0.06


@pytest.mark.parametrize("every", [2, 3])
def test_lfp_runtime_holds_at_a_slower_bus_cycle(tmp_path: Path, every: int) -> None:
    # 20-30 s between samples is more Ah than one bin of the curve alignment at this outage's
    # rate; the empty bins must not blind it (it fell back to the median cell: 130-210 % late)
    truth, est = run_replay(decimated("lfp16-outage", every, tmp_path / "trace"), tmp_path / "out")
    assert runtime_median_error(truth, est) <= 0.20


def test_estimates_keep_every_input_time_exactly_on_a_trace_that_starts_days_in(tmp_path: Path) -> None:
    # times beyond 100 000 s with decimals (a recorder started 12 days before the outage):
    # estimates.csv must give back each series.csv t_s, which the scorer matches to 1 ms
    shift = 1_036_800.25

    def later(rows: list[str]) -> list[str]:
        return [f"{t_of(r) + shift!r},{r.split(',', 1)[1]}" for r in rows]

    truth, est = run_replay(variant("lfp16-outage", tmp_path / "later", later), tmp_path / "out")
    assert est.t.size == truth.t.size
    assert np.array_equal(est.t, truth.t)
