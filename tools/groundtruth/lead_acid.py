"""The VRLA block: PyBaMM lead_acid.Full with lumped thermal, Sulzer2019 parameters, six cells,
capacity set by electrode area, Arrhenius temperature factors added."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pybamm

from tools.groundtruth.chemistry import AREA_SCALE, GAS_CONSTANT, T_REF_K, Chemistry

# Activation energies (J/mol) of the Arrhenius factors. Sulzer2019 has no temperature dependence
# in these, so without them a hot string would discharge exactly like a 25 °C one.
E_EXCHANGE_CURRENT = 30000.0
E_ELECTROLYTE_CONDUCTIVITY = 10000.0
E_ELECTROLYTE_DIFFUSIVITY = 17000.0


def _arrhenius(activation_j_mol: float, temperature_k: float) -> float:
    return math.exp(activation_j_mol / GAS_CONSTANT * (1 / T_REF_K - 1 / temperature_k))


class LeadAcid(Chemistry):
    """A 12 V VRLA block of 21.1 Ah at the 10-hour rate (C20 monitor)."""

    kind = "vrla"
    cells = 6
    rated = 21.1
    nominal_v = 12.0
    monitor = "C20"
    v_decimals = 3
    v_clip = (9.7, 17.0)
    string_cutoff_cell = 1.75
    unit_floor_cell = 1.60  # the model cannot follow a block past electrolyte exhaustion
    model_cutoff_cell = 1.50
    c10_cutoff_cell = 1.75
    charge_eff = 0.95
    base_series_r = 0.0030

    def __init__(self, ambient_c: float) -> None:
        super().__init__(ambient_c)
        # area scale so the nominal unit has the rated 10-hour capacity at 25 °C
        for _ in range(3):
            c = self.measure_c10([1.0])[0]
            self.base_scale *= self.rated / c
        self.calibrate()

    def model(self) -> pybamm.BaseModel:
        return pybamm.lead_acid.Full({"thermal": "lumped"})

    def params(self, ambient_k: float) -> pybamm.ParameterValues:
        p = pybamm.ParameterValues("Sulzer2019")
        conductivity_factor = _arrhenius(E_ELECTROLYTE_CONDUCTIVITY, ambient_k)
        diffusivity_factor = _arrhenius(E_ELECTROLYTE_DIFFUSIVITY, ambient_k)
        p.update(
            {
                "Electrode height [m]": pybamm.InputParameter(AREA_SCALE) * p["Electrode height [m]"],
                "Ambient temperature [K]": ambient_k,
                "Initial temperature [K]": ambient_k,
                "Lower voltage cut-off [V]": self.model_cutoff_cell,
                "Upper voltage cut-off [V]": 2.9,
                "Negative electrode exchange-current density [A.m-2]": _at_cell_temperature(
                    p["Negative electrode exchange-current density [A.m-2]"]
                ),
                "Positive electrode exchange-current density [A.m-2]": _at_cell_temperature(
                    p["Positive electrode exchange-current density [A.m-2]"]
                ),
                "Electrolyte conductivity [S.m-1]": _scaled(
                    p["Electrolyte conductivity [S.m-1]"], conductivity_factor
                ),
                "Electrolyte diffusivity [m2.s-1]": _scaled(
                    p["Electrolyte diffusivity [m2.s-1]"], diffusivity_factor
                ),
            }
        )
        return p


def _at_cell_temperature(exchange_current: Callable[..., Any]) -> Callable[..., Any]:
    """Exchange current × Arrhenius factor at the model's own (cell) temperature: it follows the
    block's heating during a discharge."""

    def with_arrhenius(c_e: Any, temperature: Any) -> Any:
        return exchange_current(c_e, temperature) * pybamm.exp(
            E_EXCHANGE_CURRENT / GAS_CONSTANT * (1 / T_REF_K - 1 / temperature)
        )

    return with_arrhenius


def _scaled(function: Callable[..., Any], factor: float) -> Callable[..., Any]:
    """Electrolyte property × a constant factor: the Arrhenius factor at the ambient temperature,
    as the method specifies (only the exchange currents follow the cell temperature)."""

    def scaled(*args: Any) -> Any:
        return function(*args) * factor

    return scaled
