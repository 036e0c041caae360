"""Running least squares for many series at once: the voltage-vs-Ah slopes and trends of a discharge."""

from __future__ import annotations

import numpy as np


class LinearFit:
    """Running least squares y = a + b·x for n series at once, optionally forgetting old data."""

    def __init__(self, n: int) -> None:
        self.s = np.zeros((5, n))  # weight, Σx, Σy, Σxx, Σxy

    def reset(self) -> None:
        self.s[:] = 0.0

    def add(self, x: float, y: np.ndarray, use: np.ndarray, decay: float = 1.0) -> None:
        self.s *= decay
        w = use & np.isfinite(y)
        yy = np.where(w, y, 0.0)
        self.s[0] += w
        self.s[1] += w * x
        self.s[2] += yy
        self.s[3] += w * x * x
        self.s[4] += yy * x

    def coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Intercept, slope and a validity mask (enough spread in x)."""
        w, sx, sy, sxx, sxy = self.s
        den = w * sxx - sx * sx
        ok = (w >= 3.0) & (den > 1e-12 * np.maximum(w * sxx, 1e-30))
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(ok, (w * sxy - sx * sy) / den, np.nan)
            a = np.where(ok, (sy - b * sx) / w, np.nan)
        return a, b, ok
