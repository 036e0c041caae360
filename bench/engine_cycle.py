"""CPU time of one engine cycle for a 512-unit string (target <= 2 ms), against a reference
measured in the same run: a plain Python per-unit loop doing only the coulomb counting.

    .venv/bin/python bench/engine_cycle.py
"""

from __future__ import annotations

import math
import time

import numpy as np

from gateway.core.engine import EngineConfig, Measurement, StringEngine, StringSpec

UNITS, CYCLES = 512, 2000


def engine_ms(mode_current_a: float) -> float:
    rng = np.random.default_rng(1)
    eng = StringEngine(StringSpec(UNITS, "vrla", 12.0, 100.0, "C20"), EngineConfig())
    v = 13.6 + rng.normal(0, 0.05, UNITS)
    ms = [
        Measurement(
            10.0 * k,
            mode_current_a,
            25.0,
            v + rng.normal(0, 0.01, UNITS),
            np.full(UNITS, 25.0),
            np.where(rng.random(UNITS) < 0.01, 0.004, math.nan),
        )
        for k in range(CYCLES)
    ]
    t0 = time.process_time()
    for m in ms:
        eng.step(m)
    return (time.process_time() - t0) / CYCLES * 1000.0


def python_loop_ms() -> float:
    deficit = [0.0] * UNITS
    t0 = time.process_time()
    for _ in range(CYCLES):
        for i in range(UNITS):
            deficit[i] = min(max(deficit[i] + 0.1 * 10.0 / 3600.0, 0.0), 100.0)
    return (time.process_time() - t0) / CYCLES * 1000.0


if __name__ == "__main__":
    ref = python_loop_ms()
    for label, current in (("float (equalizing)", 0.1), ("discharge", -20.0)):
        ms = engine_ms(current)
        print(
            f"{label:20s} {UNITS} units: {ms:.3f} ms/cycle (target 2 ms: {'ok' if ms <= 2 else 'OVER'}); "
            f"{ms / ref:.2f}x a Python loop doing only coulomb counting ({ref:.3f} ms)"
        )
