"""A series string of PyBaMM units driven by one current history, which is committed segment by
segment; every solve replays the whole history for all units in one call."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pybamm

from tools.groundtruth.chemistry import CELSIUS_TO_KELVIN, Chemistry, FloatArray

RAMP_S = 0.2  # current steps are ramps of this length in the model profile (a step has no slope)
DT_ITER_S = 2.0  # knot spacing of iterated current profiles (outages)
JUMP_A = 0.2  # a current change above this between knots is a step the solver must land on


@dataclass
class StringSolution:
    """One solve, on the requested time grid; a unit's columns are NaN after its solver stopped."""

    t: FloatArray  # s
    current: FloatArray  # A, + = charging
    unit_v: FloatArray  # (time, unit) terminal voltage with the series term
    unit_temp_c: FloatArray  # (time, unit)
    discharged_ah: FloatArray  # (time, unit) net Ah removed, as the model counts it

    def string_v(self) -> FloatArray:
        total: FloatArray = self.unit_v.sum(axis=1)
        return total


class SeriesString:
    """Units in series: the same current through all; each unit is its own PyBaMM model (area
    scale) plus a series resistance for connectors and spread (V_terminal = V_model + I·R)."""

    def __init__(self, chem: Chemistry, scales: FloatArray, series_r: FloatArray) -> None:
        self.chem = chem
        self.scales = np.asarray(scales, float)
        self.series_r = np.asarray(series_r, float)
        self.n = len(scales)
        # knots of the committed string-current profile (s; A, + = charging), linear between
        self.knots_t: list[float] = [0.0]
        self.knots_i: list[float] = [0.0]
        self.t = 0.0  # end of the committed history

    def copy(self) -> SeriesString:
        """The same string with the same history, to simulate a what-if without committing it."""
        other = copy.copy(self)
        other.knots_t = list(self.knots_t)
        other.knots_i = list(self.knots_i)
        return other

    def model_current(self, i_string: FloatArray) -> FloatArray:
        """PyBaMM's current (+ = discharge); the model receives charge_eff × a charging current,
        so the truth's SOC (which counts that efficiency) and the model state agree."""
        i = np.asarray(i_string, float)
        return np.where(i > 0, -i * self.chem.charge_eff, -i)

    def solve(
        self, knots_t: list[float], knots_i: list[float], t_end: float, grid: FloatArray | list[float]
    ) -> StringSolution:
        """Run all units through the profile (knots) to `t_end`, sampled on `grid`."""
        kt = np.asarray(knots_t, float)
        ki = np.asarray(knots_i, float)
        # hold the last current for an hour past the end so the interpolant never extrapolates
        kt = np.append(kt, max(kt[-1], t_end) + 3600.0)
        ki = np.append(ki, ki[-1])
        profile = pybamm.Interpolant(kt, self.model_current(ki), pybamm.t, interpolator="linear")
        sim = self.chem.simulation(profile)
        grid = np.asarray(grid, float)
        # stop the solver at every abrupt change of the current so it cannot step over a pulse
        jump = np.nonzero(np.abs(np.diff(ki)) > JUMP_A)[0]
        stops = np.unique(np.concatenate([kt[jump], kt[jump + 1]]))
        sols = self.chem.solve_units(sim, t_end, grid, self.scales, stops=stops)
        volts = np.full((grid.size, self.n), np.nan)
        temps = np.full((grid.size, self.n), np.nan)
        discharged = np.full((grid.size, self.n), np.nan)
        for j, sol in enumerate(sols):
            st = sol.t
            volts[:, j] = np.interp(grid, st, sol["Voltage [V]"].entries, right=np.nan)
            temps[:, j] = (
                np.interp(grid, st, sol["X-averaged cell temperature [K]"].entries, right=np.nan)
                - CELSIUS_TO_KELVIN
            )
            discharged[:, j] = np.interp(grid, st, sol["Discharge capacity [A.h]"].entries, right=np.nan)
            if st[-1] < t_end - 1e-6:  # the unit hit its model cut-off: no value beyond
                volts[grid > st[-1], j] = np.nan
        current = np.interp(grid, kt, ki)
        unit_v = volts * self.chem.cells + current[:, None] * self.series_r[None, :]
        return StringSolution(grid, current, unit_v, temps, discharged)

    def solve_extended(
        self, knots_t: list[float], knots_i: list[float], t_end: float, grid: FloatArray | list[float]
    ) -> StringSolution:
        """`solve` of the committed history followed by the given knots."""
        return self.solve([*self.knots_t, *knots_t], [*self.knots_i, *knots_i], t_end, grid)

    def commit(self, knots_t: list[float], knots_i: list[float]) -> None:
        """Append knots to the history (a knot at the current end replaces nothing: it is dropped)."""
        knots_t = list(knots_t)
        knots_i = list(knots_i)
        assert knots_t[0] > self.knots_t[-1] - 1e-9
        if abs(knots_t[0] - self.knots_t[-1]) < 1e-9:
            knots_t, knots_i = knots_t[1:], knots_i[1:]
        self.knots_t += knots_t
        self.knots_i += knots_i
        self.t = self.knots_t[-1]

    def append_constant(self, current_a: float, duration_s: float) -> None:
        """Hold `current_a` for `duration_s`, stepping to it with a short ramp."""
        t0 = self.t
        if abs(current_a - self.knots_i[-1]) > 1e-12:
            self.commit([t0 + RAMP_S], [current_a])
        self.commit([t0 + duration_s], [current_a])

    def end_step(self) -> None:
        """Ramp the current back to zero after a charge or discharge."""
        self.commit([self.t + RAMP_S], [0.0])

    def last_string_voltage(self) -> float:
        t = self.t
        r = self.solve(self.knots_t, self.knots_i, t + 1e-3, [0.0, t])
        return float(r.unit_v[-1].sum())
