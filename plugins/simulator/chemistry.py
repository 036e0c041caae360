"""Per-chemistry cell parameters of the simulated batteries, with where each figure comes from.

All values are per cell at 25 °C; a unit (block) is ``cells`` of them in series. Figures are
typical datasheet/handbook values, chosen to be plausible, not to match one product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CellParameters:
    """One chemistry's cell; see the plugin README for the equations that use them."""

    name: str
    cell_nominal_v: float
    #: OCV(SOC) at 25 °C as a table (SOC points, volts), interpolated linearly
    ocv_soc: tuple[float, ...]
    ocv_v: tuple[float, ...]
    ocv_tempco_v_per_k: float
    float_v: float  # charger float voltage per cell at 25 °C
    boost_v: float  # boost/equalize charge voltage per cell
    float_tempco_v_per_k: float  # charger temperature compensation (negative: lower when hot)
    cutoff_v: float  # UPS end-of-discharge voltage per cell
    #: float (gassing / side-reaction) current at float voltage, 25 °C, per Ah of capacity
    float_current_a_per_ah: float
    tafel_v_per_decade: float  # slope of the float current vs overpotential, per cell
    float_current_doubling_k: float  # float current doubles every this many kelvin
    ri_ohm_ah: float  # ohmic resistance of one cell times its capacity (Ω·Ah)
    rct_ohm_ah: float  # charge-transfer (polarisation) resistance times capacity
    peukert_k: float  # capacity exponent: C(I) = C10 · (I10 / I)^(k-1)
    self_discharge_per_month: float  # fraction of capacity lost per 30 days at 25 °C
    heat_capacity_j_per_k_ah: float  # cell heat capacity per Ah
    surface_w_per_k_ah: float  # cooling conductance to ambient per Ah (scaled by size^(2/3))
    gas_recombination: float  # share of float-current energy turned into heat in the cell
    calendar_life_years: float  # years at 25 °C to 80 % capacity on float
    charge_current_limit_c: float  # charger current limit as a fraction of C10 per hour


# Lead-acid: Berndt, "Maintenance-Free Batteries" (float current ~1 mA/Ah at 2.27 V/cell,
# doubling per ~10 K; Tafel slope ~0.12 V/decade for the oxygen cycle); EN 60896-21 and
# Yuasa/EnerSys VRLA datasheets (12 V 100 Ah ≈ 4 mΩ, float 2.27 V/cell, −3 mV/K/cell
# compensation, 1.75 V/cell end voltage, design life 10 y, self-discharge ~3 %/month).
VRLA = CellParameters(
    name="vrla",
    cell_nominal_v=2.0,
    ocv_soc=(0.0, 0.1, 0.5, 0.9, 1.0),
    ocv_v=(1.96, 1.98, 2.05, 2.12, 2.14),
    ocv_tempco_v_per_k=0.0002,
    float_v=2.27,
    boost_v=2.35,
    float_tempco_v_per_k=-0.003,
    cutoff_v=1.75,
    float_current_a_per_ah=0.001,
    tafel_v_per_decade=0.12,
    float_current_doubling_k=10.0,
    ri_ohm_ah=0.065,
    rct_ohm_ah=0.04,
    peukert_k=1.15,
    self_discharge_per_month=0.03,
    heat_capacity_j_per_k_ah=40.0,
    surface_w_per_k_ah=0.0021,
    gas_recombination=0.97,
    calendar_life_years=10.0,
    charge_current_limit_c=0.1,
)
# Vented lead-acid: IEEE 450 / EN 50272-2 (float 2.23 V/cell, boost 2.40 V, gassing
# escapes as H2/O2 so little of it heats the cell), Peukert 1.2–1.3 for flooded plates.
VLA = CellParameters(
    name="vla",
    cell_nominal_v=2.0,
    ocv_soc=(0.0, 0.1, 0.5, 0.9, 1.0),
    ocv_v=(1.95, 1.97, 2.03, 2.08, 2.10),
    ocv_tempco_v_per_k=0.0002,
    float_v=2.23,
    boost_v=2.40,
    float_tempco_v_per_k=-0.0025,
    cutoff_v=1.75,
    float_current_a_per_ah=0.0008,
    tafel_v_per_decade=0.12,
    float_current_doubling_k=10.0,
    ri_ohm_ah=0.08,
    rct_ohm_ah=0.05,
    peukert_k=1.25,
    self_discharge_per_month=0.05,
    heat_capacity_j_per_k_ah=55.0,
    surface_w_per_k_ah=0.0024,
    gas_recombination=0.1,
    calendar_life_years=15.0,
    charge_current_limit_c=0.1,
)
# LiFePO4: flat 3.2–3.35 V plateau (A123/CATL cell datasheets), float/hold 3.45 V, no
# temperature compensation, tiny side-reaction current instead of gassing, Peukert ≈ 1.03.
LFP = CellParameters(
    name="lfp",
    cell_nominal_v=3.2,
    ocv_soc=(0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 1.0),
    ocv_v=(2.50, 2.90, 3.10, 3.20, 3.24, 3.29, 3.32, 3.33, 3.34, 3.36, 3.38),
    ocv_tempco_v_per_k=-0.0001,
    float_v=3.45,
    boost_v=3.55,
    float_tempco_v_per_k=0.0,
    cutoff_v=2.80,
    float_current_a_per_ah=0.00002,
    tafel_v_per_decade=0.10,
    float_current_doubling_k=12.0,
    ri_ohm_ah=0.04,
    rct_ohm_ah=0.02,
    peukert_k=1.03,
    self_discharge_per_month=0.03,
    heat_capacity_j_per_k_ah=22.0,
    surface_w_per_k_ah=0.0030,
    gas_recombination=1.0,
    calendar_life_years=15.0,
    charge_current_limit_c=0.5,
)
# LTO: Toshiba SCiB datasheet (2.3 V nominal, 1.5–2.8 V window, very low impedance).
LTO = CellParameters(
    name="lto",
    cell_nominal_v=2.3,
    ocv_soc=(0.0, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 1.0),
    ocv_v=(1.60, 2.10, 2.20, 2.25, 2.30, 2.38, 2.45, 2.52, 2.60),
    ocv_tempco_v_per_k=-0.0001,
    float_v=2.65,
    boost_v=2.70,
    float_tempco_v_per_k=0.0,
    cutoff_v=1.80,
    float_current_a_per_ah=0.00002,
    tafel_v_per_decade=0.10,
    float_current_doubling_k=12.0,
    ri_ohm_ah=0.03,
    rct_ohm_ah=0.015,
    peukert_k=1.02,
    self_discharge_per_month=0.02,
    heat_capacity_j_per_k_ah=30.0,
    surface_w_per_k_ah=0.0030,
    gas_recombination=1.0,
    calendar_life_years=20.0,
    charge_current_limit_c=1.0,
)
# Pocket-plate NiCd: Saft SBLE/SBM manuals (float 1.40–1.42 V/cell, −2 mV/K/cell,
# end voltage 1.0 V, self-discharge ~15 %/month, Peukert ≈ 1.1).
NICD = CellParameters(
    name="nicd",
    cell_nominal_v=1.2,
    ocv_soc=(0.0, 0.05, 0.1, 0.3, 0.5, 0.8, 0.9, 1.0),
    ocv_v=(1.00, 1.15, 1.20, 1.24, 1.26, 1.29, 1.31, 1.35),
    ocv_tempco_v_per_k=-0.0004,
    float_v=1.42,
    boost_v=1.55,
    float_tempco_v_per_k=-0.002,
    cutoff_v=1.00,
    float_current_a_per_ah=0.001,
    tafel_v_per_decade=0.10,
    float_current_doubling_k=10.0,
    ri_ohm_ah=0.08,
    rct_ohm_ah=0.05,
    peukert_k=1.10,
    self_discharge_per_month=0.15,
    heat_capacity_j_per_k_ah=45.0,
    surface_w_per_k_ah=0.0024,
    gas_recombination=0.1,
    calendar_life_years=20.0,
    charge_current_limit_c=0.2,
)

CHEMISTRIES: dict[str, CellParameters] = {p.name: p for p in (VRLA, VLA, LFP, LTO, NICD)}


def parameters(chemistry: str) -> CellParameters:
    """The parameters of ``chemistry`` (``"vrla"`` … ``"nicd"``, enum values accepted)."""
    key = str(getattr(chemistry, "value", chemistry)).lower()
    try:
        return CHEMISTRIES[key]
    except KeyError:
        raise ValueError(f"unknown chemistry {chemistry!r}; known: {', '.join(CHEMISTRIES)}") from None


def cells_per_unit(chemistry: str, nominal_voltage_v: float) -> int:
    """How many cells a unit of ``nominal_voltage_v`` holds (a 12 V lead-acid block: 6)."""
    return max(1, round(nominal_voltage_v / parameters(chemistry).cell_nominal_v))


def ocv_per_cell(p: CellParameters, soc: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
    """Open-circuit voltage of one cell at ``soc`` (0–1) and ``temp_c``."""
    return np.interp(soc, p.ocv_soc, p.ocv_v) + p.ocv_tempco_v_per_k * (temp_c - 25.0)
