"""Writers of a trace folder's four files: meta.yaml, series.csv, truth.csv, truth.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tools.groundtruth.chemistry import Chemistry, FloatArray
from tools.groundtruth.formatting import csv_number
from tools.groundtruth.sensors import Measured

SOC_DECIMALS = 4
RI_DECIMALS = 5  # 10 µOhm, the monitors' Ri LSB


def _unit_labels(n: int) -> list[str]:
    return [f"{i:02d}" for i in range(1, n + 1)]


def write_meta(out: Path, chem: Chemistry, n: int) -> None:
    """The replay header."""
    (out / "meta.yaml").write_text(
        f"chemistry: {chem.kind}\nunits: {n}\nnominal_voltage_v: {chem.nominal_v}\n"
        f"rated_capacity_ah: {chem.rated}\nmodel: {chem.monitor}\nsample_period_s: variable\n"
    )


def write_series(out: Path, chem: Chemistry, rows: FloatArray, measured: Measured) -> None:
    """What the gateway would have read: one row per sample, empty cells for lost replies."""
    labels = _unit_labels(measured.voltage.shape[1])
    header = [
        "t_s",
        "current_a",
        "ambient_c",
        *(f"v_{x}" for x in labels),
        *(f"temp_{x}" for x in labels),
        *(f"ri_{x}" for x in labels),
    ]
    with open(out / "series.csv", "w") as f:
        f.write(",".join(header) + "\n")
        for k in range(rows.size):
            cells = [
                csv_number(rows[k], 2),
                csv_number(measured.current[k], 3),
                csv_number(measured.ambient[k], 1),
                *(csv_number(x, chem.v_decimals) for x in measured.voltage[k]),
                *(csv_number(x, 1) for x in measured.temperature[k]),
                *(csv_number(x, RI_DECIMALS) for x in measured.ri[k]),
            ]
            f.write(",".join(cells) + "\n")


def write_truth_csv(out: Path, rows: FloatArray, soc: FloatArray) -> None:
    """Each unit's true SOC on the rows of series.csv."""
    labels = _unit_labels(soc.shape[1])
    with open(out / "truth.csv", "w") as f:
        f.write(",".join(["t_s", *(f"soc_{x}" for x in labels)]) + "\n")
        for k in range(rows.size):
            f.write(",".join([csv_number(rows[k], 2), *(csv_number(x, SOC_DECIMALS) for x in soc[k])]) + "\n")


def write_truth_yaml(out: Path, truth: dict[str, Any]) -> None:
    with open(out / "truth.yaml", "w") as f:
        yaml.safe_dump(truth, f, sort_keys=False, width=120)
