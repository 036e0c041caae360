"""Relative capacity of each unit from the shape of its voltage-vs-Ah curve during a discharge.

Units of one design run through one loaded-voltage curve against depth of discharge, shifted by
their resistance and calibration: a unit with less charge available at this current runs through
it faster. Stretching each unit's curve along the Ah axis onto the string's median curve gives
that charge relative to the median's (differential-voltage alignment). It works wherever the
curve has features, such as the knees and the plateau step of LFP, where a plain slope does not.
"""

from __future__ import annotations

import math

import numpy as np

#: candidate stretch factors (median-unit Ah per unit Ah): relative capacities 0.4–1.8
STRETCH = np.exp(np.linspace(math.log(1.0 / 1.8), math.log(2.5), 101))
#: neighbouring bins' residuals are correlated (model mismatch, filtered noise): count
#: about this many bins as one independent observation in the standard error
CORRELATED_BINS = 4.0
#: runs of up to this many empty bins in a unit's curve are interpolated (see _fill_gaps)
MAX_GAP_BINS = 4


def _fill_gaps(u: np.ndarray, max_gap: int = MAX_GAP_BINS) -> np.ndarray:
    """Interpolate along Ah across short runs of empty bins in each unit's curve.

    A slow bus cycle (a sample every 20–30 s at a 1 C outage is more Ah than a bin) or a lost
    reply leaves bins empty; the comparisons interpolate between neighbouring bins, and one empty
    bin would otherwise void both of its neighbours' comparisons.
    """
    bins = u.shape[0]
    if bins < 3:
        return u
    valid = np.isfinite(u)
    k = np.arange(bins)[:, None]
    prev = np.maximum.accumulate(np.where(valid, k, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(valid, k, bins)[::-1], axis=0)[::-1]
    fill = ~valid & (prev >= 0) & (nxt < bins) & (nxt - prev <= max_gap + 1)
    if not fill.any():
        return u
    p, q = np.clip(prev, 0, bins - 1), np.clip(nxt, 0, bins - 1)
    up, uq = np.take_along_axis(u, p, axis=0), np.take_along_axis(u, q, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (k - p) / np.maximum(q - p, 1)
    out: np.ndarray = np.where(fill, up + (uq - up) * frac, u)
    return out


def _at(curve: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``curve`` (bins × units) at fractional bin positions ``pos``."""
    bins = curve.shape[0]
    lo = np.floor(pos).astype(int)
    frac = (pos - lo)[:, None]
    ok = (lo >= 0) & (lo + 1 < bins)
    lo_c = np.clip(lo, 0, max(bins - 2, 0))
    hi_c = np.clip(lo + 1, 0, bins - 1)
    out: np.ndarray = curve[lo_c] * (1.0 - frac) + curve[hi_c] * frac
    out[~ok] = math.nan
    return out


class CurveAligner:
    """Collects each unit's loaded voltage in Ah bins during one discharge and aligns the curves."""

    def __init__(self, n: int, bin_ah: float, max_bins: int) -> None:
        self.n, self.bin_ah, self.max_bins = n, bin_ah, max_bins
        self._sum = np.zeros((max_bins, n))
        self._count = np.zeros((max_bins, n))
        self._used = 0

    def reset(self) -> None:
        self._sum[:] = 0.0
        self._count[:] = 0.0
        self._used = 0

    def add(self, q_ah: float, v: np.ndarray) -> None:
        """One sample: ``q_ah`` Ah out since the discharge began, ``v`` the unit voltages (NaN = lost)."""
        k = int(q_ah / self.bin_ah)
        if not 0 <= k < self.max_bins:
            return
        ok = np.isfinite(v)
        self._sum[k] += np.where(ok, v, 0.0)
        self._count[k] += ok
        self._used = max(self._used, k + 1)

    def curves(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-unit mean voltage per bin (NaN where empty) and the median curve."""
        c = self._count[: self._used]
        with np.errstate(invalid="ignore", divide="ignore"):
            u = _fill_gaps(np.where(c > 0, self._sum[: self._used] / c, math.nan))
        enough = np.isfinite(u).sum(axis=1) >= max(2, self.n // 2)
        ref = np.full(u.shape[0], math.nan)
        if enough.any():
            ref[enough] = np.nanmedian(u[enough], axis=1)
        return u, ref

    def estimate(self, min_bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's capacity relative to the median unit and its standard error (NaN: unknown).

        For a stretch s > 1 (the unit is ahead: weaker) every point of the median curve is
        compared with the unit's curve at Ah / s; for s < 1 every point of the unit's curve with
        the median curve at Ah · s. So both sides use the data that is known, and an offset
        (resistance, calibration) is removed from each comparison.
        """
        n = self.n
        nan = np.full(n, math.nan)
        u, ref = self.curves()
        x = np.arange(u.shape[0]) + 0.5  # bin centres in bins
        have = np.nonzero(np.isfinite(ref))[0]
        if have.size < min_bins:
            return nan, nan.copy()
        # Compare the same points whatever the stretch: those every candidate can map inside
        # the data (else a large stretch would win by dropping the hard early part).
        lo = x[have[0]] * max(STRETCH[-1], 1.0 / STRETCH[0])
        k_ref = have[x[have] >= lo]
        if k_ref.size < min_bins:
            return nan, nan.copy()
        ref2 = ref[:, None]
        u_late = np.where((x >= lo)[:, None], u, math.nan)
        cost = np.full((STRETCH.size, n), math.nan)
        count = np.zeros((STRETCH.size, n))
        for j, s in enumerate(STRETCH):
            # s >= 1: the unit is ahead, map the median's points into it; else the reverse
            r = _at(u, x[k_ref] / s - 0.5) - ref2[k_ref] if s >= 1.0 else u_late - _at(ref2, x * s - 0.5)
            ok = np.isfinite(r)
            m = ok.sum(axis=0)
            rz = np.where(ok, r, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = rz.sum(axis=0) / m
                cost[j] = np.where(m >= min_bins, (rz**2).sum(axis=0) / m - mean**2, math.nan)
            count[j] = m
        return _minimum(cost, count)


def _minimum(cost: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative capacity at each unit's cost minimum (parabolic refinement) and its standard error."""
    n = cost.shape[1]
    filled = np.where(np.isfinite(cost), cost, np.inf)
    j = np.argmin(filled, axis=0)
    cols = np.arange(n)
    interior = (j > 0) & (j < STRETCH.size - 1) & np.isfinite(filled[j, cols])
    jj = np.clip(j, 1, STRETCH.size - 2)
    c0, c1, c2 = filled[jj - 1, cols], filled[jj, cols], filled[jj + 1, cols]
    h = math.log(STRETCH[1] / STRETCH[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        curv = (c0 - 2.0 * c1 + c2) / h**2  # d²cost / d(log s)²
        shift = np.clip(0.5 * (c0 - c2) / (c0 - 2.0 * c1 + c2), -0.5, 0.5)
        log_s = np.log(STRETCH[jj]) + shift * h
        m_eff = np.maximum(count[jj, cols] / CORRELATED_BINS, 1.0)
        se_log = np.sqrt(2.0 * np.maximum(c1, 1e-12) / (m_eff * curv))
    ok = interior & np.isfinite(curv) & (curv > 0) & np.isfinite(se_log)
    rel = np.where(ok, np.exp(-log_s), math.nan)
    return rel, np.where(ok, rel * se_log, math.nan)
