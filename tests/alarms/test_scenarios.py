"""Scenario by scenario on the simulator: the gateway runs (``cellgate run --speed N``), then
``cellgate events --json`` must show exactly the expected alarms, raised and cleared in time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop

CONFIG = """\
site: {{name: Scenario site}}
data_dir: var
lines:
  - name: bus1
    url: sim://demo
    options: {{seed: 3, scenario: {scenario}}}
strings:
  - name: String A
    chemistry: vrla
    nominal_voltage_v: 12.0
    rated_capacity_ah: 100.0
    units: {{model: C20, count: 24, bus: bus1, first_address: 1}}
    current_sensor: {{bus: bus1, address: 100}}
sensors:
  ambient: {{bus: bus1, address: 110}}
  aux: {{bus: bus1, address: 120}}
history: {{type: sqlite}}
logging: {{level: warning}}
"""


def run_scenario(
    cellgate_bin: str, tmp_path: Path, scenario: str, sim_seconds: float, speed: float
) -> list[dict[str, Any]]:
    """Run the gateway on a scenario for ``sim_seconds`` of simulated time; its persisted events."""
    cfg = tmp_path / "cellgate.yaml"
    cfg.write_text(CONFIG.format(scenario=scenario))
    proc = subprocess.Popen(
        [cellgate_bin, "run", "-c", str(cfg), "--speed", str(speed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(sim_seconds / speed + 3)  # + start-up
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    finally:
        returncode = stop(proc, 30)
    # killed, the gateway may not have persisted its last events
    assert returncode != -signal.SIGKILL, "the gateway did not stop within 30 s of SIGTERM"
    out = subprocess.run(
        [cellgate_bin, "events", "--json", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out)


def alarm_story(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(state, code, source) of every alarm transition, in order; times relative to the start."""
    return [(e["state"], e["code"], e["source"]) for e in events if e["kind"] == "alarm"]


def at(events: list[dict[str, Any]], state: str, code: str) -> float:
    start = next(e["time"] for e in events if e["code"] == "started")
    return (
        next(e["time"] for e in events if e["kind"] == "alarm" and e["state"] == state and e["code"] == code)
        - start
    )


def test_dead_monitor(cellgate_bin: str, tmp_path: Path) -> None:
    # address 3 falls silent at 30 s and is replaced at 600 s; the fuse of address 10 blows at 300 s
    events = run_scenario(cellgate_bin, tmp_path, "dead-monitor", 700, speed=20)
    assert alarm_story(events) == [
        ("raised", "unit_comm_lost", "strings[0].units[2]"),
        ("raised", "unit_fuse_open", "strings[0].units[9]"),
        ("cleared", "unit_comm_lost", "strings[0].units[2]"),
    ]
    assert 30 < at(events, "raised", "unit_comm_lost") < 30 + 60
    assert 300 < at(events, "raised", "unit_fuse_open") < 300 + 40
    assert 600 < at(events, "cleared", "unit_comm_lost") < 600 + 40
    # the monitor that came back is a new one: that is recorded too
    replaced = [e for e in events if e["code"] == "monitor_replaced"]
    assert [(e["kind"], e["source"]) for e in replaced] == [("monitor", "lines[bus1].devices[3]")]


def test_line_unplugged_is_one_line_alarm(cellgate_bin: str, tmp_path: Path) -> None:
    # the cable is out from 60 s to 180 s
    events = run_scenario(cellgate_bin, tmp_path, "line-unplugged", 260, speed=10)
    assert alarm_story(events) == [
        ("raised", "line_comm_lost", "lines[bus1]"),
        ("cleared", "line_comm_lost", "lines[bus1]"),
    ]
    assert 60 < at(events, "raised", "line_comm_lost") < 60 + 60
    assert 180 < at(events, "cleared", "line_comm_lost") < 180 + 30


@pytest.mark.slow
def test_mains_failure(cellgate_bin: str, tmp_path: Path) -> None:
    # mains fails at 120 s and returns at 1920 s
    events = run_scenario(cellgate_bin, tmp_path, "mains-failure", 2100, speed=30)
    story = alarm_story(events)
    assert story[:2] == [
        ("raised", "string_discharging", "strings[0]"),
        ("cleared", "string_discharging", "strings[0]"),
    ]
    assert 120 < at(events, "raised", "string_discharging") < 120 + 30
    assert 1920 < at(events, "cleared", "string_discharging") < 1920 + 30


@pytest.mark.slow
def test_thermal_runaway_alarms_only_the_hot_block(cellgate_bin: str, tmp_path: Path) -> None:
    # block 7 of the first string dries out from 60 s on and heats up over hours
    events = run_scenario(cellgate_bin, tmp_path, "thermal-runaway", 5 * 3600, speed=300)
    story = alarm_story(events)
    assert {source for _, _, source in story} == {"strings[0].units[6]"}
    raised = {(e["code"], e["level"]) for e in events if e["kind"] == "alarm" and e["state"] == "raised"}
    assert ("unit_temperature_deviation", "alarm") in raised
    flaps = [s for s in story if s[0] == "cleared"]
    assert len(flaps) <= 1  # no alarm comes and goes with the noise
