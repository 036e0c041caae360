"""CCCV recharge of the string: constant current until the string voltage reaches N × V_cv, then
that string voltage held (not each cell's) until the current falls to the end current."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.groundtruth.series_string import DT_ITER_S, RAMP_S, SeriesString

CC_SEARCH_STEP_S = 1800.0  # the CC phase is solved in growing horizons of this step
CV_CHUNK_S = 6.0  # the CV phase is marched in chunks of this length
# Per cell ≈ the model's instantaneous resistance (the LFP pulse resistance is 3.05 mOhm): the
# first slope dV/dI of each chunk's secant solve.
CELL_R_GUESS_OHM = 0.0031
CV_TOLERANCE_V = 0.003  # string voltage at a chunk end within 3 mV of N × V_cv
MAX_SECANT_STEPS = 6
FIRST_RATIO = 0.9  # the first CV chunk guesses the current falls 10 % in 6 s


@dataclass
class CccvResult:
    t_start: float
    t_cv: float  # start of the CV phase
    t_end: float
    max_deviation_v: float  # of the string voltage from N × V_cv over the CV phase (1-s grid)
    solves: int  # CV-phase solves
    ah_in: float  # string-current Ah delivered


def cccv_charge(
    string: SeriesString, i_cc: float, v_cell: float, i_end: float, max_duration_s: float = 4 * 3600.0
) -> CccvResult:
    """Charge at `i_cc` to `v_cell` × cells in the string, hold it down to `i_end`, commit."""
    chem = string.chem
    v_cv = v_cell * chem.cells * string.n
    t0 = string.t
    t_cv = _cc_phase_end(string, i_cc, v_cv, max_duration_s)
    string.commit([t0 + RAMP_S, t_cv], [i_cc, i_cc])

    # CV phase: march in chunks; in each the end current (linear from the previous one) is found
    # by secant so the string voltage at the chunk end is N × V_cv. A whole-profile iteration as
    # for outages oscillated here.
    string_r = float(np.sum(string.series_r)) + string.n * chem.cells * CELL_R_GUESS_OHM
    cv_t: list[float] = []
    cv_i: list[float] = []
    t_chunk, i_prev, ratio = t_cv, i_cc, FIRST_RATIO
    solves = 0

    def voltage_error(current_a: float, t_next: float) -> float:
        nonlocal solves
        solves += 1
        r = string.solve_extended([*cv_t, t_next], [*cv_i, current_a], t_next, [t_next])
        return float(r.unit_v[-1].sum()) - v_cv

    while True:
        t_next = t_chunk + CV_CHUNK_S
        i0 = min(i_cc, i_prev * ratio)
        f0 = voltage_error(i0, t_next)
        i1 = min(i_cc, max(0.0, i0 - f0 / string_r))
        f1 = voltage_error(i1, t_next) if i1 != i0 else f0
        for _ in range(MAX_SECANT_STEPS):
            if abs(f1) < CV_TOLERANCE_V or i1 == i0:
                break
            # a flat or inverted secant (solver noise) would throw the current far off
            slope = max((f1 - f0) / (i1 - i0), 0.3 * string_r)
            i0, f0 = i1, f1
            i1 = min(i_cc, max(0.0, i1 - f1 / slope))
            f1 = voltage_error(i1, t_next)
        if i1 <= i_end:
            # the end current is reached inside this chunk: end there, linearly
            t_end = t_chunk + CV_CHUNK_S * (i_prev - i_end) / (i_prev - i1)
            cv_t.append(t_end)
            cv_i.append(i_end)
            break
        cv_t.append(t_next)
        cv_i.append(i1)
        ratio = i1 / i_prev
        t_chunk, i_prev = t_next, i1
        if t_next > t_cv + max_duration_s:
            raise RuntimeError("CV does not end")

    r = string.solve_extended(cv_t, cv_i, t_end, np.arange(t_cv, t_end, 1.0))
    max_deviation = float(np.nanmax(np.abs(r.string_v() - v_cv)))
    string.commit(cv_t, cv_i)
    string.end_step()
    ah_in = float(np.trapezoid([i_cc, i_cc, *cv_i], [t0 + RAMP_S, t_cv, *cv_t]) / 3600.0)
    return CccvResult(t0, t_cv, t_end, max_deviation, solves, ah_in)


def _cc_phase_end(string: SeriesString, i_cc: float, v_cv: float, max_duration_s: float) -> float:
    """When constant current `i_cc` from the end of the history brings the string to `v_cv`."""
    t0 = string.t
    grid = t0 + RAMP_S + np.arange(0.0, max_duration_s, DT_ITER_S)
    horizon = t0 + CC_SEARCH_STEP_S
    while True:
        fine = grid[grid <= horizon]
        r = string.solve_extended([t0 + RAMP_S], [i_cc], horizon, fine)
        string_v = r.string_v()
        reached = np.isfinite(string_v) & (string_v >= v_cv)
        if reached.any():
            k = int(np.argmax(reached))
            if k == 0:
                return float(fine[0])
            return float(
                fine[k - 1]
                + (fine[k] - fine[k - 1]) * (v_cv - string_v[k - 1]) / (string_v[k] - string_v[k - 1])
            )
        if horizon >= t0 + max_duration_s:
            raise RuntimeError("CC never reaches CV")
        horizon += CC_SEARCH_STEP_S
