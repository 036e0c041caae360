"""What every unit model shares: building a PyBaMM simulation, solving all units of a string in
one call, and calibrating the nominal unit (10-hour capacity and 2-s pulse resistance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pybamm

FloatArray = npt.NDArray[np.float64]

GAS_CONSTANT = 8.314  # J/(mol K), for the Arrhenius factors
T_REF_K = 298.15  # 25 °C: capacities and Arrhenius factors are referred to it
CELSIUS_TO_KELVIN = 273.15
# Name of the PyBaMM input parameter that scales a unit's electrode area (its capacity). As an
# input rather than a parameter, one compiled model serves every unit of a string in one solve.
AREA_SCALE = "s"
CURRENT = "I"  # input parameter for the constant currents of calibration runs


class Chemistry:
    """A unit model (one 12 V block or one cell) at one ambient temperature, plus the string and
    monitor facts the writers need. Subclasses give the PyBaMM model and parameter set."""

    kind: ClassVar[str]  # meta.yaml chemistry
    cells: ClassVar[int]  # cells per unit
    rated: ClassVar[float]  # Ah at the 10-hour rate
    nominal_v: ClassVar[float]
    monitor: ClassVar[str]  # monitor model in meta.yaml
    v_decimals: ClassVar[int]  # the monitor's voltage LSB as decimals of a volt
    v_clip: ClassVar[tuple[float, float]]  # the monitor's voltage range
    string_cutoff_cell: ClassVar[float]  # V/cell: the UPS stops the outage here
    unit_floor_cell: ClassVar[float]  # V/cell: any unit here ends the outage
    model_cutoff_cell: ClassVar[float]  # V/cell: solver stop, below the floor so the floor is seen
    c10_cutoff_cell: ClassVar[float]  # V/cell: end of the 10-hour capacity test
    charge_eff: ClassVar[float]  # share of the charging current the model receives
    base_series_r: ClassVar[float]  # ohm: nominal connector/spread resistance per unit

    def __init__(self, ambient_c: float) -> None:
        self.ambient_c = ambient_c
        self.solve_count = 0  # reported in truth.yaml as unit_solves
        self.base_scale = 1.0  # area scale of the nominal unit relative to the parameter set
        self.i10_nom = self.rated / 10.0  # A, 10-hour current of the nominal unit
        self.c10_nom = self.rated  # Ah, replaced by the calibrated value

    # ---- provided by the subclasses -------------------------------------------------------
    def model(self) -> pybamm.BaseModel:
        raise NotImplementedError

    def params(self, ambient_k: float) -> pybamm.ParameterValues:
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------------------
    def simulation(
        self,
        current: Any,
        ambient_k: float | None = None,
        cutoff: float | None = None,
        extra: dict[str, float] | None = None,
    ) -> pybamm.Simulation:
        """A fresh simulation driven by `current` (A, + = discharge; a number, input or Interpolant)."""
        if ambient_k is None:
            ambient_k = self.ambient_c + CELSIUS_TO_KELVIN
        p = self.params(ambient_k)
        p.update({"Current function [A]": current})
        if cutoff is not None:
            p.update({"Lower voltage cut-off [V]": cutoff})
        if extra:
            p.update(extra)
        return pybamm.Simulation(
            self.model(), parameter_values=p, solver=pybamm.IDAKLUSolver(options={"num_threads": 2})
        )

    def solve_units(
        self,
        sim: pybamm.Simulation,
        t_end: float,
        t_interp: FloatArray,
        scales: FloatArray,
        stops: FloatArray | None = None,
    ) -> list[pybamm.Solution]:
        """Solve every unit (its area scale) to `t_end` in one call; `stops` are times the solver
        must land on (current steps), so it cannot step over them."""
        inputs = [{AREA_SCALE: float(s * self.base_scale)} for s in scales]
        if stops is None:
            t_eval = [0.0, float(t_end)]
        else:
            t_eval = sorted({0.0, float(t_end)} | {float(x) for x in stops if 0 < x < t_end})
        sols = sim.solve(np.array(t_eval), inputs=inputs, t_interp=np.asarray(t_interp, float))
        if not isinstance(sols, list):
            sols = [sols]
        self.solve_count += len(sols)
        return sols

    def measure_c10(self, scales: Sequence[float] | FloatArray, ambient_k: float = T_REF_K) -> FloatArray:
        """Ah of a constant-current discharge at each unit's own 10-hour current (scale × nominal
        I10) to the capacity-test end voltage: the definition of `capacity_ah`."""
        sim = self.simulation(
            pybamm.InputParameter(CURRENT), ambient_k=ambient_k, cutoff=self.c10_cutoff_cell
        )
        caps = []
        for s in scales:
            i10 = s * self.i10_nom
            sol = sim.solve(
                [0.0, 30 * 3600.0], inputs={AREA_SCALE: float(s * self.base_scale), CURRENT: float(i10)}
            )
            self.solve_count += 1
            caps.append(float(sol["Discharge capacity [A.h]"].entries[-1]))
        return np.array(caps)

    def calibrate(self) -> None:
        """Find the nominal unit's I10 = C10 / 10 (a fixed point: C10 depends on the current)."""
        self.i10_nom = self.rated / 10.0
        for _ in range(4):
            c = self.measure_c10([1.0])[0]
            self.i10_nom = c / 10.0
        self.c10_nom = self.measure_c10([1.0])[0]

    def pulse_solve_kwargs(self) -> dict[str, float]:
        """Extra arguments of the pulse solves (the state the pulse starts from)."""
        return {}

    def pulse_extra_params(self) -> dict[str, float] | None:
        """Parameter overrides the pulse solves need."""
        return None

    def pulse_resistance(self) -> float:
        """Unit-level 2-s pulse resistance (ohm) of the nominal unit at rest.

        The pulse current is C10 in amperes (1 C10), not the 10-hour current: only that
        reproduces the public traces' model parts, 21.682 mOhm (VRLA) and 3.049 mOhm (LFP).
        """
        kw = self.pulse_solve_kwargs()
        v0 = self._pulse_voltage(0.0, kw)
        v1 = self._pulse_voltage(float(self.c10_nom), kw)
        self.solve_count += 2
        return (v0 - v1) / self.c10_nom * self.cells

    def _pulse_voltage(self, current_a: float, kw: dict[str, float]) -> float:
        sim = self.simulation(pybamm.InputParameter(CURRENT), extra=self.pulse_extra_params())
        sol = sim.solve([0.0, 2.0], inputs={AREA_SCALE: self.base_scale, CURRENT: current_a}, **kw)
        return float(sol["Voltage [V]"].entries[-1])
