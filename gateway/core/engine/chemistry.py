"""Generic per-chemistry battery parameters and the monitor models' electrical limits.

Textbook values (OCV curves, Peukert exponents, temperature coefficients), not fitted to any
trace: the engine must behave on batteries it has never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ChemistryParams:
    """What the engine assumes about one chemistry, per cell, at 25 °C."""

    cell_nominal_v: float
    #: open-circuit voltage per cell against SOC (increasing), at 25 °C, fully relaxed
    ocv_soc: tuple[float, ...]
    ocv_v_per_cell: tuple[float, ...]
    ocv_temp_coeff_v_per_c: float  # per cell
    charge_efficiency: float  # share of the charging Ah that ends up stored
    peukert_exponent: float  # available capacity ~ (I10 / I) ** (k - 1)
    capacity_temp_coeff_per_c: float  # available capacity +x per °C above 25 °C
    unit_eod_v_per_cell: float  # end of discharge of one unit
    string_cutoff_v_per_cell: float  # typical UPS/rectifier low-voltage disconnect
    full_v_per_cell: float  # at or above this with a small current: charge accepted
    full_current_c: float  # "small": below this many C10 amperes
    ocv_rest_s: float  # rest needed before the terminal voltage is an OCV
    float_v_per_cell: float  # charger set point if none is configured
    #: a string this high per cell (median) is held by a charger: float, not rest; well above
    #: the relaxed OCV of a full unit, below any float set point
    charger_v_per_cell: float
    eq_floor_v_per_cell: float  # equalization never pulls a unit below this
    #: under load, this far below the median = weak: about twice the monitors' datasheet voltage
    #: accuracy (0.5 % of a cell), so that a calibration error alone never reaches it
    weak_drop_v_per_cell: float
    #: float current rises e-fold per this many volts/cell of polarisation (Tafel slope)
    tafel_v_per_cell: float
    #: a full unit's float current per Ah of capacity: lead-acid and NiCd ~1 mA/Ah (gassing,
    #: recombination); a Li cell draws little more than its self-discharge (~3 %/month)
    float_current_a_per_ah: float
    lead_acid: bool
    #: an OCV read where the curve is flatter than this (V per unit SOC, per cell) says nothing
    #: about SOC: on a Li plateau the level differs between cell designs, and LFP's own
    #: charge/discharge hysteresis (~20 mV), by more than the whole plateau rises
    ocv_min_slope: float = 0.0


_LEAD_OCV_SOC = (0.0, 1.0)
_TAFEL_LEAD = 0.1 / np.log(10.0)  # 100 mV per decade of float current, per cell
CHEMISTRIES: dict[str, ChemistryParams] = {
    # Lead-acid OCV ~ 0.84 V + specific gravity; AGM 1.30 full, ~1.10 empty at the C10 end point.
    "vrla": ChemistryParams(
        cell_nominal_v=2.0,
        ocv_soc=_LEAD_OCV_SOC,
        ocv_v_per_cell=(1.95, 2.15),
        ocv_temp_coeff_v_per_c=-0.0002,
        charge_efficiency=0.95,
        peukert_exponent=1.10,
        capacity_temp_coeff_per_c=0.006,
        unit_eod_v_per_cell=1.60,
        string_cutoff_v_per_cell=1.75,
        full_v_per_cell=2.20,
        full_current_c=0.01,
        ocv_rest_s=7200.0,
        float_v_per_cell=2.27,
        charger_v_per_cell=2.20,
        eq_floor_v_per_cell=2.23,
        weak_drop_v_per_cell=0.02,
        tafel_v_per_cell=_TAFEL_LEAD,
        float_current_a_per_ah=0.001,
        lead_acid=True,
    ),
    "vla": ChemistryParams(
        cell_nominal_v=2.0,
        ocv_soc=_LEAD_OCV_SOC,
        ocv_v_per_cell=(1.95, 2.12),
        ocv_temp_coeff_v_per_c=-0.0002,
        charge_efficiency=0.93,
        peukert_exponent=1.20,
        capacity_temp_coeff_per_c=0.008,
        unit_eod_v_per_cell=1.60,
        string_cutoff_v_per_cell=1.75,
        full_v_per_cell=2.18,
        full_current_c=0.01,
        ocv_rest_s=7200.0,
        float_v_per_cell=2.23,
        charger_v_per_cell=2.18,
        eq_floor_v_per_cell=2.18,
        weak_drop_v_per_cell=0.02,
        tafel_v_per_cell=_TAFEL_LEAD,
        float_current_a_per_ah=0.001,
        lead_acid=True,
    ),
    "lfp": ChemistryParams(
        cell_nominal_v=3.2,
        ocv_soc=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
        ocv_v_per_cell=(2.50, 3.00, 3.20, 3.25, 3.27, 3.29, 3.30, 3.30, 3.31, 3.33, 3.34, 3.36, 3.45),
        ocv_temp_coeff_v_per_c=-0.0001,
        charge_efficiency=0.995,
        peukert_exponent=1.03,
        capacity_temp_coeff_per_c=0.003,
        unit_eod_v_per_cell=2.50,
        string_cutoff_v_per_cell=2.80,
        full_v_per_cell=3.45,
        full_current_c=0.05,
        ocv_rest_s=1800.0,
        float_v_per_cell=3.40,
        charger_v_per_cell=3.38,
        eq_floor_v_per_cell=3.35,
        weak_drop_v_per_cell=0.03,
        tafel_v_per_cell=0.02,
        float_current_a_per_ah=0.00004,
        lead_acid=False,
        ocv_min_slope=1.0,
    ),
    "lto": ChemistryParams(
        cell_nominal_v=2.3,
        ocv_soc=(0.0, 0.1, 0.5, 0.9, 1.0),
        ocv_v_per_cell=(1.80, 2.20, 2.30, 2.45, 2.70),
        ocv_temp_coeff_v_per_c=-0.0002,
        charge_efficiency=0.995,
        peukert_exponent=1.02,
        capacity_temp_coeff_per_c=0.003,
        unit_eod_v_per_cell=1.50,
        string_cutoff_v_per_cell=1.80,
        full_v_per_cell=2.65,
        full_current_c=0.05,
        ocv_rest_s=1800.0,
        float_v_per_cell=2.65,
        charger_v_per_cell=2.55,
        eq_floor_v_per_cell=2.55,
        weak_drop_v_per_cell=0.025,
        tafel_v_per_cell=0.02,
        float_current_a_per_ah=0.00004,
        lead_acid=False,
        ocv_min_slope=1.0,
    ),
    "nicd": ChemistryParams(
        cell_nominal_v=1.2,
        ocv_soc=(0.0, 0.1, 0.5, 0.9, 1.0),
        ocv_v_per_cell=(1.10, 1.20, 1.25, 1.30, 1.35),
        ocv_temp_coeff_v_per_c=-0.0004,
        charge_efficiency=0.80,
        peukert_exponent=1.10,
        capacity_temp_coeff_per_c=0.005,
        unit_eod_v_per_cell=1.00,
        string_cutoff_v_per_cell=1.05,
        full_v_per_cell=1.40,
        full_current_c=0.01,
        ocv_rest_s=7200.0,
        float_v_per_cell=1.42,
        charger_v_per_cell=1.38,
        eq_floor_v_per_cell=1.38,
        weak_drop_v_per_cell=0.015,
        tafel_v_per_cell=0.03,
        float_current_a_per_ah=0.001,
        lead_acid=False,
        ocv_min_slope=1.0,
    ),
}


@dataclass(frozen=True, slots=True)
class MonitorModel:
    """A block monitor's limits (specs/monitor-bus.md)."""

    v_range: tuple[float, float]
    bypass_a: float
    channels: int = 1


MONITOR_MODELS: dict[str, MonitorModel] = {
    "C20": MonitorModel((9.7, 17.0), 0.150),
    "C23": MonitorModel((9.7, 21.0), 0.120),
    "C30": MonitorModel((4.8, 8.0), 0.300),
    "C40": MonitorModel((1.0, 3.2), 0.900),
    "C41": MonitorModel((2.4, 5.0), 0.300),
    "C20ex3": MonitorModel((9.7, 17.0), 0.150, 3),
    "C30ex3": MonitorModel((4.8, 8.0), 0.300, 3),
    "C40ex3": MonitorModel((1.0, 3.2), 0.900, 3),
}


def chemistry(name: str) -> ChemistryParams:
    """The parameters of ``name``; a clear error for an unknown chemistry."""
    try:
        return CHEMISTRIES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown chemistry {name!r}; one of {', '.join(CHEMISTRIES)}") from None


def monitor_model(name: str) -> MonitorModel:
    """The limits of monitor model ``name``; a clear error for an unknown one."""
    try:
        return MONITOR_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown monitor model {name!r}; one of {', '.join(MONITOR_MODELS)}") from None


def ocv_per_cell(p: ChemistryParams, soc: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
    """Open-circuit voltage per cell at ``soc`` and ``temp_c``."""
    v: np.ndarray = np.interp(soc, p.ocv_soc, p.ocv_v_per_cell) + p.ocv_temp_coeff_v_per_c * (
        np.nan_to_num(temp_c, nan=25.0) - 25.0
    )
    return v


def soc_from_ocv(p: ChemistryParams, v_per_cell: np.ndarray, temp_c: np.ndarray) -> np.ndarray:
    """SOC whose OCV (temperature-compensated) is ``v_per_cell``; clipped to 0–1."""
    v25 = v_per_cell - p.ocv_temp_coeff_v_per_c * (np.nan_to_num(temp_c, nan=25.0) - 25.0)
    soc: np.ndarray = np.interp(v25, p.ocv_v_per_cell, p.ocv_soc)
    return soc


def ocv_slope(p: ChemistryParams, soc: np.ndarray) -> np.ndarray:
    """dOCV/dSOC per cell at ``soc`` (V per unit SOC): how much a voltage tells about SOC."""
    s = np.asarray(p.ocv_soc)
    v = np.asarray(p.ocv_v_per_cell)
    slopes = np.diff(v) / np.diff(s)
    idx = np.clip(np.searchsorted(s, soc, side="right") - 1, 0, slopes.size - 1)
    return slopes[idx]
