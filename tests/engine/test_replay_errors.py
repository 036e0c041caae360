"""``cellgate replay`` on a broken trace: exit code 2 and one line that says where, never a
result computed from a file read wrongly."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.core.engine.replay import ReplayCommand
from tests.engine.scoring import DATA

SOURCE = DATA / "lfp16-outage"


def broken(tmp_path: Path, edit: Callable[[dict[str, str]], None]) -> Path:
    """A copy of a public trace with its meta.yaml / series.csv text changed by ``edit``."""
    files = {f: (SOURCE / f).read_text() for f in ("meta.yaml", "series.csv")}
    edit(files)
    trace = tmp_path / "trace"
    trace.mkdir()
    for f, text in files.items():
        (trace / f).write_text(text)
    return trace


def replay(trace: Path, out: Path) -> int:
    cmd = ReplayCommand()
    parser = argparse.ArgumentParser()
    cmd.configure(parser)
    return cmd.run(parser.parse_args([str(trace), "--out", str(out)]))


def replace_line(files: dict[str, str], k: int, old: str, new: str) -> None:
    lines = files["series.csv"].splitlines()
    assert old in lines[k]
    lines[k] = lines[k].replace(old, new, 1)
    files["series.csv"] = "\n".join(lines) + "\n"


def swap_lines(files: dict[str, str], k: int) -> None:
    lines = files["series.csv"].splitlines()
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    files["series.csv"] = "\n".join(lines) + "\n"


CASES: list[tuple[str, Callable[[dict[str, str]], None], str]] = [
    (
        "a unit column missing",
        lambda f: f.update({"series.csv": f["series.csv"].replace(",v_03,", ",v_3,", 1)}),
        "missing column(s) v_03",
    ),
    (
        "a cell that is not a number",
        lambda f: replace_line(f, 49, ",0.01,25,", ",0.01,25x,"),
        "line 50, column",
    ),
    ("time going backwards", lambda f: swap_lines(f, 70), "never decrease"),
    (
        "an unknown chemistry",
        lambda f: f.update({"meta.yaml": f["meta.yaml"].replace("chemistry: lfp", "chemistry: nmc")}),
        "unknown chemistry 'nmc'",
    ),
    (
        "a missing meta key",
        lambda f: f.update({"meta.yaml": f["meta.yaml"].replace("rated_capacity_ah", "rated_ah")}),
        "rated_capacity_ah",
    ),
]


@pytest.mark.parametrize(("edit", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_trace_is_refused_with_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[dict[str, str]], None], says: str
) -> None:
    out = tmp_path / "out"
    assert replay(broken(tmp_path, edit), out) == 2
    err = capsys.readouterr().err
    assert "cellgate replay: error:" in err
    assert says in err
    assert not (out / "estimates.csv").exists()
