"""Closed loop against the independent float plant (tests/engine/peers/float_plant.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from gateway.core.engine.cosim import CosimCommand

PLANT = Path(__file__).resolve().parent / "peers" / "float_plant.py"


def run_cosim(args: list[str]) -> int:
    cmd = CosimCommand()
    parser = argparse.ArgumentParser()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(args))


def test_equalization_brings_true_spread_under_100_mv(tmp_path: Path) -> None:
    score = tmp_path / "score.json"
    plant = f"{sys.executable} {PLANT} --hours 24 --score {score}"
    assert run_cosim(["--plant", plant, "--out", str(tmp_path)]) == 0
    res = json.loads(score.read_text())["result"]
    assert res["initial_spread_mv"] > 200
    assert res["final_spread_mv"] <= 100.0  # true voltages, the plant's own measure
    assert res["hours_until_spread_stays_below_100_mv"] is not None
    assert res["min_v_ok"]  # nobody pulled below 2.23 V/cell or its own unbalanced minimum
    assert res["string_current_increase_pct"] < 25.0  # modest side effect
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["units"]) == 24
    assert summary["equalization"]["bypass_mean_w"] > 0


def test_malformed_plant_message_ends_with_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant = f"{sys.executable} -c \"print('{{not json'); import sys; sys.stdin.readline()\""
    assert run_cosim(["--plant", plant, "--units", "4", "--out", str(tmp_path)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_wrong_unit_count_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msg = {"t_s": 0, "current_a": 0.1, "ambient_c": 25, "units": [{"v": 13.6, "temp_c": 25, "ri_ohm": None}]}
    script = tmp_path / "plant.py"
    script.write_text(f"import json, sys\nprint(json.dumps({msg!r}), flush=True)\nsys.stdin.readline()\n")
    assert run_cosim(["--plant", f"{sys.executable} {script}", "--units", "3", "--out", str(tmp_path)]) == 2
    assert "3 objects" in capsys.readouterr().err
