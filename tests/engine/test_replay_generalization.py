"""The engine on our own PyBaMM traces (tests/data/groundtruth-own): rates, a temperature and
an outage pattern the public traces do not have, made by tools/groundtruth with the public
method. The same targets as on the public traces, so a fit to those four would show here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.engine.scoring import (
    DATA,
    discharge_window,
    flags,
    is_failure_code,
    run_replay,
    runtime_median_error,
    soc_errors,
)

OWN = DATA.parent / "groundtruth-own"
VRLA = ["vrla24-slow-outage", "vrla24-hot-outage"]
LFP = ["lfp16-partial-outages", "lfp16-slow-outage"]


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("own")
    return {n: run_replay(OWN / n, out / n) for n in VRLA + LFP}


@pytest.mark.parametrize("name", VRLA)
def test_vrla_soc_during_and_after_outages_at_other_rates_and_35_c(replays: dict, name: str) -> None:
    truth, est = replays[name]
    rmse, worst = soc_errors(truth, est, discharge_window(truth))
    assert rmse <= 0.03, f"SOC RMSE {rmse:.3%} during outages + 1 h"
    assert worst <= 0.06, f"SOC max error {worst:.3%} during outages + 1 h"


@pytest.mark.parametrize("name", VRLA)
def test_vrla_capacities_learnt_within_6_percent(replays: dict, name: str) -> None:
    truth, est = replays[name]
    for u, e in zip(truth.units, sorted(est.summary["units"], key=lambda x: x["position"]), strict=True):
        assert e["capacity_ah"] is not None, u["position"]
        assert abs(e["capacity_ah"] - u["capacity_ah"]) / u["capacity_ah"] < 0.06, u["position"]


@pytest.mark.parametrize("name", VRLA + LFP)
def test_failing_unit_weak_within_60_s_and_no_healthy_unit_flagged(replays: dict, name: str) -> None:
    truth, est = replays[name]
    start = truth.discharges[0]["t_start_s"]
    for u in truth.units:
        codes = [(t, c) for t, c in flags(est, u["position"]) if is_failure_code(c)]
        if u["failing"]:
            weak = [t for t, c in codes if c == "weak_unit"]
            assert weak, f"failing unit {u['position']} never flagged weak"
            assert start <= weak[0] <= start + 60.0
        else:
            assert not codes, f"healthy unit {u['position']} flagged {codes}"


@pytest.mark.parametrize("name", LFP)
def test_lfp_soc_of_every_healthy_cell_within_the_target(replays: dict, name: str) -> None:
    # The failing cell's 10-hour capacity is unknown on its first outage (docs/engine.md, known
    # gaps): its SOC reads high until the recharge teaches it. Every other cell must be right.
    truth, est = replays[name]
    healthy = np.array([not u["failing"] for u in truth.units])
    err = (est.soc - truth.soc)[:, healthy]
    assert np.sqrt(np.mean(err**2)) <= 0.02
    assert np.abs(err).max() <= 0.05


@pytest.mark.parametrize("name", LFP)
def test_lfp_capacities_from_the_recharge(replays: dict, name: str) -> None:
    truth, est = replays[name]
    rated = 22.1
    units = sorted(est.summary["units"], key=lambda x: x["position"])
    for u, e in zip(truth.units, units, strict=True):
        if e["capacity_ah"] is None:
            continue  # an alignment not sure enough keeps it unknown until a later charge
        if u["failing"]:
            assert e["capacity_ah"] < 0.8 * rated, "the weak cell must stand out as low capacity"
        else:
            assert abs(e["capacity_ah"] - u["capacity_ah"]) / u["capacity_ah"] < 0.05, u["position"]
    assert sum(e["capacity_ah"] is not None for e in units) >= 12


def test_lfp_runtime_within_10_percent_on_partial_outages(replays: dict) -> None:
    truth, est = replays["lfp16-partial-outages"]
    assert runtime_median_error(truth, est) <= 0.10


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the rate law. PyBaMM's lead-acid loses little capacity at 0.5 C "
    "(the 80-min outage: 34 % too short) and much above 2 C; a generic Peukert exponent fits "
    "neither (docs/engine.md)",
)
@pytest.mark.parametrize("name", ["vrla24-slow-outage", "vrla24-hot-outage", "lfp16-slow-outage"])
def test_runtime_within_10_percent_at_other_rates(replays: dict, name: str) -> None:
    truth, est = replays[name]
    assert runtime_median_error(truth, est) <= 0.10


def test_own_traces_are_in_the_repo() -> None:
    for name in VRLA + LFP:
        assert (Path(OWN) / name / "series.csv").is_file()
