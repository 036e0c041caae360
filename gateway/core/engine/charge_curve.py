"""Relative capacities of flat-curve chemistries (Li, NiCd) from a charge back to full.

On a flat curve (LFP) the slope of a discharge hides the capacity, and the curve alignment of a
discharge measures the charge available at the outage's high rate. A charge back to full is
slower, and it ends where every unit is full: plotted against the charge still missing, units of
one design pass the same features (knees, the plateau step) at distances from full proportional
to their capacities. The anchored stretch of each unit's curve onto the median's is its 10-hour
capacity relative to the median's (differential voltage analysis, as Li battery management
systems do on charge).
"""

from __future__ import annotations

import numpy as np

from gateway.core.engine.alignment import CurveAligner

#: a charge counts as back to full when less than this share of the capacity is missing
FULL_DEPTH = 0.02
#: a unit's charge-curve capacity is used only if the alignment is at least this sure of it
#: (0.05 let through 7-10 % errors on a shallow recharge of the simulator's LFP cells)
MAX_SE = 0.02


class ChargeCurve:
    """Collects one charge's curves and, when it reached full, says what they show."""

    def __init__(self, n: int, bin_ah: float, bins: int) -> None:
        self._aligner = CurveAligner(n, bin_ah, bins)
        self._depth_ah = 0.0  # the most that was missing during this charge

    def reset(self) -> None:
        """Forget this charge (a discharge cut it short: it never reached full)."""
        self._aligner.reset()
        self._depth_ah = 0.0

    def add(self, missing_ah: float, v: np.ndarray) -> None:
        """One sample while charging: ``missing_ah`` still missing to full, ``v`` the unit voltages."""
        self._aligner.add(missing_ah, v)
        self._depth_ah = max(self._depth_ah, missing_ah)

    def finish(self, missing_ah: float, capacity_ah: float) -> float | None:
        """The charge stopped: its depth (share of ``capacity_ah``) if it reached full, else None."""
        if self._depth_ah <= 0.0:
            return None
        depth = self._depth_ah / capacity_ah
        full = missing_ah <= FULL_DEPTH * capacity_ah
        if not full:
            self.reset()
        return depth if full else None

    def relative_capacities(self) -> np.ndarray:
        """Each unit's capacity over the median unit's (NaN where unsure); forgets the charge."""
        rel, se = self._aligner.estimate()
        self.reset()
        sure = np.isfinite(rel) & (np.nan_to_num(se, nan=np.inf) <= MAX_SE)
        out: np.ndarray = np.where(sure, rel, np.nan)
        return out
