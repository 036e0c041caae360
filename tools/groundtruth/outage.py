"""A UPS outage: constant-power discharge of the string, the current found as a fixed point of the
whole profile, ending at the string cut-off, a unit's floor voltage or the outage's duration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.groundtruth.series_string import DT_ITER_S, RAMP_S, SeriesString, StringSolution

POWER_TOLERANCE = 5e-4  # relative: the fixed point stops when every knot is within 0.05 % of P
MAX_ITERATIONS = 12
FIRST_GUESS_DROP = 0.95  # the first profile assumes the string sags 5 % below its rest voltage
HORIZON_MARGIN_S = 60.0  # later iterations solve only this far past the last end found


@dataclass
class DischargeResult:
    t_start: float
    t_end: float
    reason: str  # "string_cutoff", "unit_floor" or "duration"
    iterations: int
    power_deviation: float  # max relative deviation from the power over the discharge
    ah_out: float  # string-current Ah removed


def constant_power_discharge(
    string: SeriesString, power_w: float, max_duration_s: float, commit: bool = True
) -> DischargeResult:
    """Discharge at `power_w` from the end of the history for at most `max_duration_s`.

    Every unit carries I = −P / ΣV, and ΣV depends on the whole current history, so the profile
    (knots every 2 s) is iterated as a whole: solve, set I = −P / ΣV at every knot, repeat
    (2–4 iterations). With `commit` False the history is left as it was: a continuation that
    only answers when the discharge would have ended.
    """
    chem = string.chem
    t0 = string.t
    cutoff = chem.string_cutoff_cell * chem.cells * string.n
    floor = chem.unit_floor_cell * chem.cells
    grid = t0 + RAMP_S + np.arange(0.0, max_duration_s + DT_ITER_S, DT_ITER_S)
    grid = grid[grid <= t0 + max_duration_s]
    if grid[-1] < t0 + max_duration_s:
        grid = np.append(grid, t0 + max_duration_s)
    v_rest = string.last_string_voltage()
    current = np.full(grid.size, -power_w / (FIRST_GUESS_DROP * v_rest))
    horizon = t0 + max_duration_s
    iterations = 0
    while True:
        iterations += 1
        fine = grid[grid <= horizon + 1e-9]
        r = string.solve_extended(
            list(fine), list(current[: fine.size]), min(horizon + 5.0, t0 + max_duration_s + 5.0), fine
        )
        string_v = r.string_v()
        ended = (
            (~np.isfinite(string_v))
            | (string_v <= cutoff)
            | np.any(~np.isfinite(r.unit_v) | (r.unit_v <= floor), axis=1)
        )
        if ended.any():
            k = int(np.argmax(ended))
            if k == 0:
                raise RuntimeError("outage ends at once")
            t_end, reason = _end_crossing(r, k, cutoff, floor)
        else:
            t_end, reason = t0 + max_duration_s, "duration"
        use = fine < t_end
        power_deviation = float(np.max(np.abs(-current[: fine.size][use] * string_v[use] / power_w - 1.0)))
        if power_deviation < POWER_TOLERANCE or iterations >= MAX_ITERATIONS:
            break
        updated = current.copy()
        updated[: fine.size][use] = -power_w / string_v[use]
        # beyond the end the current is the last one found: the next solve may run a little further
        last = updated[: fine.size][use][-1]
        updated[: fine.size][~use] = last
        updated[fine.size :] = last
        current = updated
        horizon = min(t0 + max_duration_s, t_end + HORIZON_MARGIN_S)
    knots_t = [*fine[fine < t_end], t_end]
    i_end = float(np.interp(t_end, fine, current[: fine.size]))
    knots_i = [*current[: fine.size][fine < t_end], i_end]
    ah_out = float(-np.trapezoid([0.0, *knots_i], [t0, *knots_t]) / 3600.0)
    if commit:
        string.commit(knots_t, knots_i)
        string.end_step()
    return DischargeResult(t0, t_end, reason, iterations, power_deviation, ah_out)


def _end_crossing(r: StringSolution, k: int, cutoff: float, floor: float) -> tuple[float, str]:
    """The first end criterion crossed between samples k−1 and k, and when (linear in between)."""
    t = r.t
    string_v0, string_v1 = r.unit_v[k - 1].sum(), r.unit_v[k].sum()
    candidates = []
    if np.isfinite(string_v1) and string_v1 <= cutoff:
        candidates.append(
            (t[k - 1] + (t[k] - t[k - 1]) * (string_v0 - cutoff) / (string_v0 - string_v1), "string_cutoff")
        )
    for j in range(r.unit_v.shape[1]):
        v0, v1 = r.unit_v[k - 1, j], r.unit_v[k, j]
        if np.isfinite(v1) and v1 <= floor:
            candidates.append((t[k - 1] + (t[k] - t[k - 1]) * (v0 - floor) / (v0 - v1), "unit_floor"))
        elif not np.isfinite(v1):
            # the unit's solver stopped at its model cut-off, below the floor
            candidates.append((t[k - 1], "unit_floor"))
    if not candidates:
        candidates.append((t[k - 1], "unit_floor"))
    return min(candidates)
