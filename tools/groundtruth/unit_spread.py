"""The units of a string: one failing unit, the others spread in capacity and resistance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.groundtruth.chemistry import CELSIUS_TO_KELVIN, T_REF_K, Chemistry, FloatArray

FAILING_CAPACITY = 0.70  # of the nominal unit
FAILING_RESISTANCE = 1.6  # × the nominal Ri
CAPACITY_SIGMA = 0.03
RESISTANCE_SIGMA = 0.05
MIN_SERIES_R_OHM = 5e-5  # a unit always has some connector resistance


@dataclass
class UnitSpread:
    failing_position: int  # 1-based
    scales: FloatArray  # electrode-area scale of each unit (capacity relative to nominal)
    series_r: FloatArray  # ohm: the series term of each unit
    ri_ohm: FloatArray  # the truth's Ri: model pulse resistance / scale + series term
    capacity_ah: FloatArray  # 10-hour capacity at 25 °C
    capacity_ah_at_ambient: FloatArray


def draw_units(
    rng: np.random.Generator, n: int, chem: Chemistry, r_model_nom: float, ambient_c: float
) -> UnitSpread:
    """Draw the units and measure their capacities.

    The capacity spread is an electrode-area scale (the model's resistance scales as 1 / area);
    the resistance spread is put entirely in the series term, so each unit's Ri hits its target.
    """
    failing_position = int(rng.integers(1, n + 1))
    ri_nom = r_model_nom + chem.base_series_r
    scales, ri_target = np.empty(n), np.empty(n)
    for j in range(n):
        if j + 1 == failing_position:
            scales[j], ri_target[j] = FAILING_CAPACITY, FAILING_RESISTANCE * ri_nom
            # the failing unit takes its draws too, so the other units' values do not depend
            # on where it sits
            rng.normal(), rng.normal()
        else:
            scales[j] = 1.0 + CAPACITY_SIGMA * rng.normal()
            ri_target[j] = ri_nom * (1.0 + RESISTANCE_SIGMA * rng.normal())
    series_r = np.maximum(MIN_SERIES_R_OHM, ri_target - r_model_nom / scales)
    ri_ohm = r_model_nom / scales + series_r
    capacity = chem.measure_c10(scales, T_REF_K)
    at_ambient = (
        capacity if abs(ambient_c - 25.0) < 1e-9 else chem.measure_c10(scales, ambient_c + CELSIUS_TO_KELVIN)
    )
    return UnitSpread(failing_position, scales, series_r, ri_ohm, capacity, at_ambient)
