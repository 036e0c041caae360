"""How much faster than real time the simulator's physics runs: 512 units stepped at 1 s.

Prints simulated seconds per real second (the ratio to real time; the issue asks ≥ 1000×)
and, as a same-run reference, the cost of one step of a single 24-unit string.
Run: .venv/bin/python bench/sim_speed.py
"""

from __future__ import annotations

import time

import numpy as np

from plugins.simulator.physics import Plant, StringSetup


def steps_per_second(plant: Plant, steps: int) -> float:
    for _ in range(50):  # warm-up
        plant.step(1.0, 23.0)
    t0 = time.perf_counter()
    for _ in range(steps):
        plant.step(1.0, 23.0)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    big = Plant([StringSetup("vrla", 12.0, 100.0, 32) for _ in range(16)], np.random.default_rng(1))
    assert big.n_units == 512
    small = Plant([StringSetup("vrla", 12.0, 100.0, 24)], np.random.default_rng(1))
    rate_big = steps_per_second(big, 3000)
    rate_small = steps_per_second(small, 3000)
    print(
        f"512 units, 1 s steps: {rate_big:,.0f} simulated s per real s -> {rate_big:,.0f}x real time "
        f"({1e6 / rate_big:.0f} µs per step)"
    )
    print(
        f"reference, 24 units: {rate_small:,.0f}x real time; 512 units cost "
        f"{rate_small / rate_big:.1f}x the time of 24 (vectorised: far below 512/24 = 21.3)"
    )
    print(f"ratio to the 1000x goal: {rate_big / 1000:.1f}")


if __name__ == "__main__":
    main()
