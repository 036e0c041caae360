"""The content of truth.yaml: per-unit truth, events, sensor draws, definitions and model notes."""

from __future__ import annotations

from typing import Any

import pybamm

from tools.groundtruth.chemistry import Chemistry
from tools.groundtruth.formatting import sig6
from tools.groundtruth.scenarios import Scenario
from tools.groundtruth.sensors import Measured
from tools.groundtruth.timeline import Timeline
from tools.groundtruth.unit_spread import UnitSpread

GENERATOR = (
    "tools/groundtruth (cellgate's re-implementation of the published method, not the public generator)"
)

SOC_DEFINITION = (
    "soc = min(1, 1 - net Ah removed / capacity_ah); charge counted with charge_efficiency; capacity_ah = "
    "the unit's 10-hour-rate capacity at 25 C to 1.75 V/cell (lead-acid) or 2.5 V (LFP)"
)
STRING_SOC_DEFINITION = (
    "min over units of soc*capacity_ah, divided by min over units of capacity_ah (charge the string "
    "can deliver until its first unit is empty, over the smallest capacity)"
)
RUNTIME_DEFINITION = (
    "discharge events give runtime_end_t_s: the end of discharge at the event's constant power (for an "
    "outage that ended early because power returned: a continuation of the same simulation to its end "
    "criterion)"
)
SERIES_TERM = (
    "V_terminal = V_model + I_string * series_r_ohm (I_string > 0 charging); "
    "its heat is not in the thermal model"
)
RI_SYNTHETIC = (
    "Ri readings are synthetic from ri_ohm (the model's pulse resistance varies with SOC and current)."
)
VRLA_MODEL = (
    "PyBaMM lead_acid.Full, lumped thermal, Sulzer2019; capacity spread = electrode area (input "
    "parameter). Arrhenius factors (reference 25 C) added: exchange currents 30 kJ/mol (at the cell "
    "temperature), electrolyte conductivity 10 kJ/mol and diffusivity 17 kJ/mol (at the ambient "
    "temperature)."
)
VRLA_CHARGE = (
    "lead-acid has no end-of-charge or float physics in PyBaMM: recharge is constant current, rests "
    "stand in for float (charger in rest mode, zero current). The model receives charge_efficiency x "
    "the string current."
)
LFP_MODEL = (
    "PyBaMM SPMe, lumped thermal, Prada2013 (thermal properties from Chen2020), electrode area, cell "
    "volume and cooling area x10 (x capacity scale per unit). Capacity spread = electrode area (input "
    "parameter)."
)
LFP_CHARGE = "coulombic efficiency 1; CV is on the string voltage (N x V_cv), so cells differ"
SENSOR_TEMPERATURE = "offset U(+-1 C) per channel, noise sigma 0.2 C, 0.1 C resolution"
SENSOR_RI = (
    "every 6 h from t=300 s on rest/float only: bias U(+-1 %) per channel, noise sigma 2 %, LSB 10 uOhm"
)
SENSOR_LOST = (
    "1 % of monitor replies lost (V, T, Ri of that unit empty in that row); current and ambient 1 % each"
)


def _unit_entries(chem: Chemistry, units: UnitSpread, measured: Measured) -> list[dict[str, Any]]:
    entries = []
    for j in range(units.scales.size):
        failing = j + 1 == units.failing_position
        entries.append(
            {
                "position": j + 1,
                "capacity_ah": sig6(units.capacity_ah[j]),
                "soh": sig6(units.capacity_ah[j] / chem.rated),
                "capacity_ah_at_ambient": sig6(units.capacity_ah_at_ambient[j]),
                "ri_ohm": sig6(units.ri_ohm[j]),
                "series_r_ohm": sig6(units.series_r[j]),
                "ri_trend": None,
                "ri_rise_20pct_t_s": None,
                "failing": failing,
                "sensor": {
                    "v_gain": sig6(measured.v_gain[j]),
                    "v_offset_v": sig6(measured.v_offset[j]),
                    "temp_offset_c": sig6(measured.temp_offset[j]),
                    "ri_bias": sig6(measured.ri_bias[j]),
                },
                # failing from t = 0: the first Ri reading already shows it
                "onset_t_s": 0.0 if failing else None,
                "detectable_from_t_s": (measured.ri_times[0] if measured.ri_times else 300.0)
                if failing
                else None,
            }
        )
    return entries


def _model_texts(chem: Chemistry, n: int, r_model_nom: float) -> dict[str, str]:
    """Model, Ri definition, end of discharge and charge notes of the chemistry."""
    model_part = f"model part for the nominal unit {r_model_nom * 1000:.3f} mOhm. {RI_SYNTHETIC}"
    string_cutoff = f"string voltage <= {chem.string_cutoff_cell * chem.cells * n:.1f} V (UPS cut-off)"
    if chem.kind == "vrla":
        return {
            "model": VRLA_MODEL,
            "ri_definition": "2-s pulse resistance at 1 C10 of the model at rest (full charge, ambient) / "
            f"capacity scale + series_r_ohm; {model_part}",
            "end_of_discharge": f"{string_cutoff} or any unit <= {chem.unit_floor_cell * chem.cells:.1f} V "
            "(1.60 V/cell: beyond it the model cannot follow an exhausted block; a real UPS would go on to "
            "its string cut-off and drive that block into reversal) or the outage's max_duration_s",
            "charge": VRLA_CHARGE,
        }
    return {
        "model": LFP_MODEL,
        "ri_definition": "2-s pulse resistance at 1 C10 of the model at rest (50 % SOC, ambient) / capacity "
        f"scale + series_r_ohm; {model_part}",
        "end_of_discharge": f"{string_cutoff} or any unit <= {chem.unit_floor_cell} V (BMS cell cut-off) "
        "or the outage's max_duration_s",
        "charge": LFP_CHARGE,
    }


def truth_document(
    name: str,
    scenario: Scenario,
    seed: int,
    chem: Chemistry,
    r_model_nom: float,
    c10_nominal_at_ambient: float,
    units: UnitSpread,
    timeline: Timeline,
    measured: Measured,
    rows: int,
) -> dict[str, Any]:
    n = scenario.units
    texts = _model_texts(chem, n, r_model_nom)
    voltage_range = f"{chem.v_clip[0]}-{chem.v_clip[1]} V"
    lsb = "1 mV" if chem.v_decimals == 3 else "0.1 mV"
    return {
        "scenario": name,
        "description": scenario.description,
        "public": False,
        "seed": seed,
        "generator": {"script": GENERATOR, "engine": f"pybamm {pybamm.__version__}"},
        "rated_capacity_ah": chem.rated,
        "soc_definition": SOC_DEFINITION,
        "string_soc_definition": STRING_SOC_DEFINITION,
        "soh_definition": "capacity_ah / rated_capacity_ah",
        "runtime_definition": RUNTIME_DEFINITION,
        "charge_efficiency": chem.charge_eff,
        "ambient_c": float(scenario.ambient_c),
        "string": {
            "units": n,
            "cells_per_unit": chem.cells,
            "string_cutoff_v": sig6(chem.string_cutoff_cell * chem.cells * n),
            "unit_floor_v": sig6(chem.unit_floor_cell * chem.cells),
        },
        "events": timeline.events,
        "units": _unit_entries(chem, units, measured),
        "sensor": {
            "voltage": "per channel: gain U(+-0.25 %), offset U(+-5 mV) drawn once; white noise sigma "
            f"0.1 % of reading; quantised to {lsb}; clipped to {voltage_range}",
            "temperature": SENSOR_TEMPERATURE,
            "ri": SENSOR_RI,
            "current": f"gain {measured.i_gain * 100:+.3f} %, offset {measured.i_offset * 1000:+.1f} mA, "
            "noise sigma 0.1 % of reading, 1 mA resolution",
            "ambient": f"offset {measured.ambient_offset:+.2f} C, noise sigma 0.2 C",
            "lost": SENSOR_LOST,
            "lost_unit_readings": measured.lost_unit_readings,
            "ri_measurement_t_s": measured.ri_times,
        },
        "sample_period_s": "variable",
        "rows": rows,
        "model_notes": {
            "model": texts["model"],
            "c10_nominal_ah_25c": sig6(chem.c10_nom),
            "c10_nominal_ah_ambient": sig6(c10_nominal_at_ambient),
            "ri_definition": texts["ri_definition"],
            "series_term": SERIES_TERM,
            "end_of_discharge": texts["end_of_discharge"],
            "charge": texts["charge"],
            "unit_solves": int(chem.solve_count),
            "hysteresis": None,
            "iterations": "; ".join(timeline.notes),
        },
    }
