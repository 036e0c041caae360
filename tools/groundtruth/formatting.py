"""How numbers are written: CSV cells in the public traces' style and YAML values to 6 digits."""

from __future__ import annotations

import math


def csv_number(value: float | None, decimals: int) -> str:
    """`value` rounded to `decimals`, trailing zeros stripped, "" for a missing reading.

    This is the style of the public traces' CSVs, so a diff between them compares numbers.
    """
    if value is None or not math.isfinite(value):
        return ""
    text = f"{round(float(value), decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def sig6(value: float | None) -> float | None:
    """`value` to 6 significant digits as a plain float, so truth.yaml does not carry solver noise."""
    return None if value is None else float(f"{float(value):.6g}")
