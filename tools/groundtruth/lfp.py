"""The LFP cell: PyBaMM SPMe with lumped thermal, Prada2013 (A123) parameters with the thermal
properties from Chen2020, electrode area × 10 to reach ~22 Ah, capacity set by electrode area."""

from __future__ import annotations

import pybamm

from tools.groundtruth.chemistry import AREA_SCALE, Chemistry

# Chen2020 keys not to borrow: degradation submodels and mechanics Prada2013 does not use; only
# the thermal properties it lacks are wanted.
_NOT_BORROWED = (
    "SEI",
    "LAM",
    "Lithium interstitial",
    "Bulk solvent",
    "Ratio of lithium",
    "thermal expansion",
)


class LFP(Chemistry):
    """A 3.2 V LFP cell of ~22.1 Ah at the 10-hour rate (C41 monitor)."""

    kind = "lfp"
    cells = 1
    rated = 22.1
    nominal_v = 3.2
    monitor = "C41"
    v_decimals = 4
    v_clip = (2.4, 5.0)
    string_cutoff_cell = 2.8
    unit_floor_cell = 2.5  # BMS cell cut-off
    model_cutoff_cell = 2.2
    c10_cutoff_cell = 2.5
    charge_eff = 1.0
    base_series_r = 0.0005

    def __init__(self, ambient_c: float) -> None:
        super().__init__(ambient_c)
        self.base_scale = 10.0  # the A123 cell is 2.3 Ah
        self.calibrate()

    def model(self) -> pybamm.BaseModel:
        return pybamm.lithium_ion.SPMe({"thermal": "lumped"})

    def params(self, ambient_k: float) -> pybamm.ParameterValues:
        p = pybamm.ParameterValues("Prada2013")
        chen = pybamm.ParameterValues("Chen2020")
        own_keys = list(p.keys())
        borrowed = {}
        for key in list(chen.keys()):
            if key in own_keys or key.startswith("EC ") or any(word in key for word in _NOT_BORROWED):
                continue
            borrowed[key] = chen[key]
        p.update(borrowed, check_already_exists=False)
        scale = pybamm.InputParameter(AREA_SCALE)
        # the thermal mass and cooling area grow with the electrode area, so a 10 × cell heats
        # like the original one
        p.update(
            {
                "Electrode height [m]": scale * p["Electrode height [m]"],
                "Cell volume [m3]": scale * chen["Cell volume [m3]"],
                "Cell cooling surface area [m2]": scale * chen["Cell cooling surface area [m2]"],
                "Ambient temperature [K]": ambient_k,
                "Initial temperature [K]": ambient_k,
                "Lower voltage cut-off [V]": self.model_cutoff_cell,
                "Upper voltage cut-off [V]": 4.0,
            }
        )
        return p

    def pulse_solve_kwargs(self) -> dict[str, float]:
        return {"initial_soc": 0.5}

    def pulse_extra_params(self) -> dict[str, float]:
        # initial_soc is computed within the set's voltage limits: use Prada's own 2.0-3.6 V
        return {"Lower voltage cut-off [V]": 2.0, "Upper voltage cut-off [V]": 3.6}
