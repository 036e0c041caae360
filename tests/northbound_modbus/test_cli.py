"""``cellgate modbus map``: the effective map as a table and as CSV, from the config or options."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from plugins.northbound_modbus.compiler import CSV_COLUMNS

CELLGATE = [sys.executable, "-m", "gateway"]

CONFIG = """
site: {name: CLI test}
lines:
  - {name: bus1, url: "sim://cli", baud: 19200}
strings:
  - name: A
    units: {model: C20, count: 3, bus: bus1, first_address: 1}
  - name: B
    units: {model: C20, count: 2, bus: bus1, first_address: 10}
services:
  - type: modbus
    tcp: {port: 5020}
    map: plc.yaml
"""

PLC_MAP = """
name: plc
points:
  - {address: 0, source: site.flags, unit: bits}
templates:
  - for_each: unit
    base: 100
    stride: 2
    points: [{data_type: float32, word_order: little, source: unit.voltage_v, unit: V}]
"""


def cellgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CELLGATE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_csv_of_the_configured_map(tmp_path: Path) -> None:
    (tmp_path / "cellgate.yaml").write_text(CONFIG)
    (tmp_path / "plc.yaml").write_text(PLC_MAP)
    done = cellgate("modbus", "map", "--csv", "-c", str(tmp_path / "cellgate.yaml"))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1:] == [
        ["input_register", "0", "uint16", "big", "", "1", "0", "site.flags", "bits"],
        ["input_register", "100", "float32", "big", "little", "1", "0", "strings[0].units[0].voltage_v", "V"],
        ["input_register", "102", "float32", "big", "little", "1", "0", "strings[0].units[1].voltage_v", "V"],
        ["input_register", "104", "float32", "big", "little", "1", "0", "strings[0].units[2].voltage_v", "V"],
        ["input_register", "106", "float32", "big", "little", "1", "0", "strings[1].units[0].voltage_v", "V"],
        ["input_register", "108", "float32", "big", "little", "1", "0", "strings[1].units[1].voltage_v", "V"],
    ]


def test_table_of_the_default_map_for_a_layout() -> None:
    done = cellgate("modbus", "map", "--units", "24,24")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [*CSV_COLUMNS, "write"]
    assert any(
        line.split()[:2] == ["input_register", "10047"] and "strings[1].units[23].voltage_v" in line
        for line in lines
    )
    assert not any(line.split()[:2] == ["input_register", "10048"] for line in lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("points: [{address: 0, source: site.nope}]", "unknown site field 'nope'"),
        ("points: [{address: 0, source: site.flags, scale: 0}]", "scale must not be 0"),
    ],
)
def test_a_bad_map_is_reported_with_its_file(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    done = cellgate("modbus", "map", "--units", "2", "--map", str(bad))
    assert done.returncode == 2
    assert message in done.stderr
    assert str(bad) in done.stderr
