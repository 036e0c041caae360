"""The string's mode from its voltages alone, for strings with no current reading.

A current sensor is optional (and can fail). Without one, a charger still shows: it holds the
units above their relaxed OCV. A load shows as a quick fall of the string's median voltage to
below a full unit's relaxed OCV (its I·R drop comes at once), and its end as a recovery: under a
load the voltage only sinks, and it rises by the load's I·R drop when the load goes (or more, when
a charger comes back). A charger switched off is neither: the voltage relaxes toward the OCV over
hours. The steps are far larger than the noise of a median over the string's monitors.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from gateway.core.engine.chemistry import ChemistryParams
from gateway.core.engine.measurement import Mode

#: a fall (or, in a discharge, a rise) of the median this large, per cell, is a load coming (going)
STEP_V_PER_CELL = 0.02
#: ...when the fall takes no longer than this (two or three bus cycles of a long line)
FALL_WITHIN_S = 120.0


class VoltageModeGuess:
    """Float, rest or discharge from the median unit voltage per cell, one reading at a time."""

    def __init__(self, chem: ChemistryParams, cells_per_unit: int) -> None:
        self.cells = cells_per_unit
        self.charger_v = chem.charger_v_per_cell
        # a load pulls even a full unit this far under its relaxed OCV
        self.loaded_v = chem.ocv_v_per_cell[-1] - STEP_V_PER_CELL
        self._recent: deque[tuple[float, float]] = deque()  # (t, median per cell)
        self._low = math.inf  # the lowest median in the present discharge

    def mode(self, t: float, previous: Mode, v: np.ndarray) -> Mode:
        if not np.isfinite(v).any():
            return previous
        per_cell = float(np.nanmedian(v)) / self.cells
        while self._recent and self._recent[0][0] < t - FALL_WITHIN_S:
            self._recent.popleft()
        high = max((x for _, x in self._recent), default=per_cell)
        self._recent.append((t, per_cell))
        if previous is Mode.DISCHARGE:
            self._low = min(self._low, per_cell)
            if per_cell < self._low + STEP_V_PER_CELL:
                return Mode.DISCHARGE
        elif per_cell < min(high - STEP_V_PER_CELL, self.loaded_v):
            self._low = per_cell
            return Mode.DISCHARGE
        return Mode.FLOAT if per_cell >= self.charger_v else Mode.REST

    def reset(self) -> None:
        """Forget the history (a current reading decided the mode meanwhile)."""
        self._recent.clear()
        self._low = math.inf
