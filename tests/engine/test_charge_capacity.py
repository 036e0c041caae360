"""Capacities of a flat-curve chemistry (LFP) learnt from a charge back to full.

The cells follow one synthetic curve of SOC with the features of LFP (knees at both ends, a
plateau step), each scaled by its own capacity: a weak cell passes the features at a smaller
distance from full. The engine is told only the rated capacity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gateway.core.engine import Measurement, StringEngine, StringSpec
from gateway.core.engine.measurement import StringEstimate

CAPACITY_AH = np.array([100.0, 101.0, 99.0, 100.5, 98.5, 100.0, 99.5, 70.0])
N = CAPACITY_AH.size
SPEC = StringSpec(units=N, chemistry="lfp", nominal_voltage_v=3.2, rated_capacity_ah=100.0, model="C41")
R_OHM = 0.001


def lfp_curve(soc: np.ndarray) -> np.ndarray:
    """Open-circuit volts of a made-up LFP cell: low knee, two plateaus, high knee."""
    soc = np.clip(soc, 0.0, 1.0)
    return (
        3.29
        + 0.03 * np.tanh((soc - 0.55) / 0.04)  # plateau step (graphite staging)
        - 0.4 * np.exp(-soc / 0.05)  # empty knee
        + 0.15 * np.exp((soc - 1.0) / 0.03)  # full knee
    )


def run(charge_back_ah: float) -> tuple[StringEngine, StringEstimate]:
    """Discharge 50 Ah at 0.2 C, rest, charge ``charge_back_ah`` at 0.2 C, rest."""
    eng = StringEngine(SPEC)
    rng = np.random.default_rng(3)
    out = np.zeros(N)
    t = 0.0

    def step(current: float, dt: float = 30.0) -> StringEstimate:
        nonlocal t, out
        out = out - current * dt / 3600.0
        v = lfp_curve(1.0 - out / CAPACITY_AH) + current * R_OHM
        t += dt
        return eng.step(
            Measurement(
                t_s=t,
                current_a=current,
                ambient_c=25.0,
                voltage_v=v + rng.normal(0.0, 0.001, N),
                temperature_c=np.full(N, 25.0),
                ri_ohm=np.full(N, math.nan),
            )
        )

    for _ in range(20):
        step(0.0)
    for _ in range(int(50.0 / 20.0 * 120)):  # 50 Ah at 20 A
        step(-20.0)
    for _ in range(60):
        step(0.0)
    for _ in range(int(charge_back_ah / 20.0 * 120)):
        step(20.0)
    for _ in range(59):
        step(0.0)
    return eng, step(0.0)


def test_a_charge_back_to_full_teaches_each_cells_capacity() -> None:
    eng, est = run(charge_back_ah=50.0)
    assert np.isfinite(est.soh).all(), "every cell's capacity is known after a charge back to full"
    assert est.soh == pytest.approx(CAPACITY_AH / 100.0, abs=0.03)
    assert {(f.code, f.unit) for f in est.findings} == {("low_capacity", 7)}
    summary = {u["position"]: u for u in eng.summary()["units"]}
    assert summary[8]["capacity_ah"] == pytest.approx(70.0, abs=3.0)


def test_a_charge_cut_short_teaches_nothing() -> None:
    _, est = run(charge_back_ah=25.0)  # half way back: the distances from full are unknown
    assert np.isnan(est.soh).all()
    assert not [f for f in est.findings if f.code == "low_capacity"]
