"""Replay traces on disk (specs/replay-and-cosim.md): read ``meta.yaml`` + ``series.csv``,
write ``estimates.csv`` and ``summary.json``; and load engine settings from a root config.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gateway.core.engine.config import EngineConfig
from gateway.core.engine.measurement import Measurement, StringSpec


class TraceError(Exception):
    """A trace folder that does not follow the replay format."""


@dataclass
class Trace:
    spec: StringSpec
    t_s: np.ndarray
    current_a: np.ndarray
    ambient_c: np.ndarray
    voltage_v: np.ndarray  # rows × units
    temperature_c: np.ndarray
    ri_ohm: np.ndarray

    def measurements(self) -> Any:
        """One :class:`Measurement` per row, in order."""
        for k in range(self.t_s.size):
            yield Measurement(
                float(self.t_s[k]),
                float(self.current_a[k]),
                float(self.ambient_c[k]),
                self.voltage_v[k],
                self.temperature_c[k],
                self.ri_ohm[k],
            )


def read_meta(folder: Path) -> StringSpec:
    path = folder / "meta.yaml"
    if not path.is_file():
        raise TraceError(f"{path}: missing (a trace folder holds meta.yaml and series.csv)")
    meta = yaml.safe_load(path.read_text()) or {}
    try:
        return StringSpec(
            units=int(meta["units"]),
            chemistry=str(meta["chemistry"]),
            nominal_voltage_v=float(meta["nominal_voltage_v"]),
            rated_capacity_ah=float(meta["rated_capacity_ah"]),
            model=str(meta.get("model", "C20")),
        )
    except KeyError as e:
        raise TraceError(f"{path}: missing key {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise TraceError(f"{path}: {e}") from None


def read_trace(folder: str | Path) -> Trace:
    folder = Path(folder)
    spec = read_meta(folder)
    path = folder / "series.csv"
    if not path.is_file():
        raise TraceError(f"{path}: missing")
    lines = path.read_text().splitlines()  # read once: parsed here, checked for garbage below
    header = [h.strip() for h in lines[0].split(",")] if lines else []
    rows = [r for r in lines[1:] if r.strip()]  # a blank line (a trailing one) is no sample
    n = spec.units
    cols = ["t_s", "current_a", "ambient_c"] + [
        f"{p}_{i:02d}" for p in ("v", "temp", "ri") for i in range(1, n + 1)
    ]
    missing = [c for c in cols if c not in header]
    if missing:
        raise TraceError(f"{path}: missing column(s) {', '.join(missing[:5])} for {n} units")
    try:
        data = np.genfromtxt(rows, delimiter=",", filling_values=math.nan, ndmin=2)
    except ValueError as e:
        raise TraceError(f"{path}: {e}") from None
    if data.shape[1] != len(header):
        raise TraceError(f"{path}: {data.shape[1]} fields per row, header has {len(header)}")
    _reject_garbage(path, header, rows, data)
    idx = {h: j for j, h in enumerate(header)}

    def block(prefix: str) -> np.ndarray:
        return data[:, [idx[f"{prefix}_{i:02d}"] for i in range(1, n + 1)]]

    t = data[:, idx["t_s"]]
    if np.isnan(t).any() or (np.diff(t) < 0).any():
        raise TraceError(f"{path}: t_s must be present on every row and never decrease")
    return Trace(
        spec, t, data[:, idx["current_a"]], data[:, idx["ambient_c"]], block("v"), block("temp"), block("ri")
    )


def _reject_garbage(path: Path, header: list[str], lines: list[str], data: np.ndarray) -> None:
    """An empty cell is a lost sample; anything else that is not a number is a broken file,
    which must not pass for a lost sample."""
    rows, cols = np.nonzero(np.isnan(data))
    for k in np.unique(rows).tolist():
        cells = lines[k].split(",")
        for j in cols[rows == k].tolist():
            cell = cells[j].strip()
            if cell and cell.lower() != "nan":
                raise TraceError(f"{path}: line {k + 2}, column {header[j]}: {cell!r} is not a number")


def write_estimates(
    path: Path, t: np.ndarray, soc: np.ndarray, string_soc: np.ndarray, runtime: np.ndarray
) -> None:
    n = soc.shape[1]
    header = ["t_s"] + [f"soc_{i:02d}" for i in range(1, n + 1)] + ["string_soc", "runtime_s"]
    table = np.column_stack([soc, string_soc, runtime])
    with path.open("w") as f:
        f.write(",".join(header) + "\n")
        for k in range(t.size):
            cells = ["" if not math.isfinite(x) else f"{x:.5f}" for x in table[k, :-1]]
            rt = table[k, -1]
            cells.append("" if not math.isfinite(rt) else f"{rt:.1f}")
            # the input's own time, exactly (shortest round-trip form): ``:g`` keeps 6 digits,
            # which turns 103025.34 into 103025 and 1234567 into 1.23457e+06
            f.write(f"{float(t[k])!r}," + ",".join(cells) + "\n")


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=1) + "\n")


def load_settings(config_path: str | Path) -> tuple[EngineConfig, dict[str, Any] | None]:
    """The ``engine:`` settings and the first string (as a dict) of a root config file.

    Validated by the gateway's own loader (with the installed plugins), so errors read the
    same as in ``cellgate run``.
    """
    from gateway.core.config import ConfigError, load_config
    from gateway.plugins import load_plugins

    try:
        root = load_config(Path(config_path), load_plugins()).root
    except ConfigError as e:
        raise ValueError(str(e)) from None
    first = root.strings[0].model_dump(mode="json") if root.strings else None
    return root.engine, first


def spec_from_string(s: dict[str, Any]) -> StringSpec:
    """A :class:`StringSpec` from a root config's ``strings[i]`` entry."""
    units = s.get("units") or {}
    return StringSpec(
        units=int(units["count"]),
        chemistry=str(s["chemistry"]),
        nominal_voltage_v=float(s["nominal_voltage_v"]),
        rated_capacity_ah=float(s["rated_capacity_ah"]),
        model=str(units.get("model", "C20")),
    )
