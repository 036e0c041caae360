"""Runs a scenario's steps on a string and records its events; picks the rows to write."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.groundtruth.cccv import cccv_charge
from tools.groundtruth.chemistry import FloatArray
from tools.groundtruth.formatting import sig6
from tools.groundtruth.outage import constant_power_discharge
from tools.groundtruth.scenarios import Cccv, ConstantCurrent, Outage, Rest, ReturnCharge, Step
from tools.groundtruth.series_string import SeriesString

CONTINUATION_S = 6 * 3600.0  # an outage cut short is continued this long at most to find its end
BASE_ROW_S = 30.0
OUTAGE_ROW_S = 10.0
ROWS_BEFORE_OUTAGE_S = 300.0  # 10-s rows from 5 min before each outage ...
ROWS_AFTER_OUTAGE_S = 3600.0  # ... to 1 h after its end

Log = Callable[..., None]


@dataclass
class Timeline:
    events: list[dict[str, Any]] = field(default_factory=list)  # truth.yaml events
    discharge_windows: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # iteration counts for truth.yaml
    t_total: float = 0.0


def run_steps(string: SeriesString, steps: tuple[Step, ...], log: Log) -> Timeline:
    """Commit every step to the string's history, in order."""
    timeline = Timeline()
    events = timeline.events
    for step in steps:
        t0 = string.t
        if isinstance(step, Rest):
            # timed from the previous event's end as written in truth.yaml (6 digits)
            t_start = events[-1]["t_end_s"] if events else 0.0
            string.append_constant(0.0, step.until_s - (string.t - t_start))
            events.append({"kind": "rest", "t_start_s": sig6(t_start), "t_end_s": sig6(string.t)})
        elif isinstance(step, Outage):
            events.append(_outage(string, step, timeline, log))
        elif isinstance(step, ConstantCurrent):
            events.append(_constant_current(string, step.current_a, step.duration_s))
        elif isinstance(step, ReturnCharge):
            # the deficit in string-current Ah (charge efficiency not applied)
            deficit = sum(e["ah_out"] for e in events if e["kind"] == "discharge") - sum(
                e["current_a"] * (e["t_end_s"] - e["t_start_s"]) / 3600
                for e in events
                if e["kind"] == "charge"
            )
            ah = step.fraction * deficit
            event = _constant_current(string, step.current_a, ah / step.current_a * 3600.0)
            event.update({"ah_delivered": round(ah, 4), "fraction_of_deficit": float(step.fraction)})
            events.append(event)
        elif isinstance(step, Cccv):
            charge = cccv_charge(string, step.current_a, step.v_cell, step.end_current_a)
            log(
                f"cccv: CV from {(charge.t_cv - t0) / 60:.1f} min, end {(charge.t_end - t0) / 60:.1f} min, "
                f"{charge.solves} CV solves, max dev {charge.max_deviation_v * 1000:.1f} mV, "
                f"{charge.ah_in:.3f} Ah"
            )
            events.append(
                {
                    "kind": "charge",
                    "mode": "cccv",
                    "current_a": float(step.current_a),
                    "cv_v_per_cell": float(step.v_cell),
                    "end_current_a": float(step.end_current_a),
                    "t_start_s": sig6(t0),
                    "t_cv_start_s": sig6(charge.t_cv),
                    "t_end_s": sig6(charge.t_end),
                    "cv_max_deviation_v": sig6(round(charge.max_deviation_v, 4)),
                }
            )
    # the last rest also holds the final ramp knot: its end is the end of the history
    timeline.t_total = string.t
    events[-1]["t_end_s"] = sig6(timeline.t_total)
    return timeline


def _outage(string: SeriesString, step: Outage, timeline: Timeline, log: Log) -> dict[str, Any]:
    t0 = string.t
    before = string.copy()
    result = constant_power_discharge(string, step.power_w, step.max_duration_s, commit=True)
    event: dict[str, Any] = {
        "kind": "discharge",
        "power_w": float(step.power_w),
        "t_start_s": sig6(t0),
        "t_end_s": sig6(result.t_end),
        "end_reason": result.reason,
        "max_duration_s": float(step.max_duration_s),
        "power_deviation_max": sig6(round(result.power_deviation, 5)),
        "ah_out": round(result.ah_out, 4),
    }
    log(
        f"outage {step.power_w:.0f} W: {result.reason} after {(result.t_end - t0) / 60:.2f} min, "
        f"{result.iterations} iterations, power dev {result.power_deviation:.2e}, {result.ah_out:.3f} Ah"
    )
    timeline.notes.append(
        f"outage at {t0:.0f} s: fixed point in {result.iterations} whole-profile iterations"
    )
    if result.reason == "duration":
        # power returned before the end: the runtime truth is when the same outage, from the same
        # history, would have ended
        continuation = constant_power_discharge(before, step.power_w, CONTINUATION_S, commit=False)
        event["runtime_end_t_s"] = sig6(continuation.t_end)
        event["runtime_end_reason"] = continuation.reason
        log(
            f"  continuation: {continuation.reason} at {(continuation.t_end - t0) / 60:.2f} min "
            f"({continuation.iterations} it)"
        )
        timeline.notes.append(f"its continuation in {continuation.iterations}")
    else:
        event["runtime_end_t_s"] = sig6(result.t_end)
        event["runtime_end_reason"] = result.reason
    timeline.discharge_windows.append((t0, result.t_end))
    return event


def row_times(t_total: float, discharge_windows: list[tuple[float, float]]) -> FloatArray:
    """Rows every 30 s, every 10 s from 5 min before each outage to 1 h after it."""
    rows = set(np.arange(0.0, math.floor(t_total / BASE_ROW_S) * BASE_ROW_S + 1e-9, BASE_ROW_S))
    for start, end in discharge_windows:
        lo = math.floor((start - ROWS_BEFORE_OUTAGE_S) / BASE_ROW_S) * BASE_ROW_S
        hi = math.ceil((end + ROWS_AFTER_OUTAGE_S) / BASE_ROW_S) * BASE_ROW_S
        rows |= set(np.arange(max(0.0, lo), min(hi, t_total) + 1e-9, OUTAGE_ROW_S))
    return np.array(sorted(r for r in rows if r <= t_total + 1e-9))


def _constant_current(string: SeriesString, current_a: float, duration_s: float) -> dict[str, Any]:
    """A constant-current charge step and its truth.yaml event."""
    t0 = string.t
    string.append_constant(current_a, duration_s)
    t_end = string.t
    string.end_step()
    return {
        "kind": "charge",
        "mode": "cc",
        "current_a": float(current_a),
        "t_start_s": sig6(t0),
        "t_end_s": sig6(t_end),
    }
