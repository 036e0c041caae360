"""Thermal runaway of one block on a series string: positive feedback, and what the gateway can see.

The charger holds the SUM of the block voltages, so the string current follows the geometric
mean of the blocks' float currents: one block cannot raise it much until it fails. What one
runaway block shows is its own temperature climbing faster and faster and its voltage sagging.
"""

from __future__ import annotations

import numpy as np

from plugins.simulator.physics import Plant, StringSetup
from plugins.simulator.world import RUNAWAY_SHORT_S_PER_V

HOUR = 3600.0
DT = 10.0


def vrla_string(seed: int = 3) -> Plant:
    return Plant([StringSetup("vrla", 12.0, 100.0, 24)], np.random.default_rng(seed), ambient_c=23.0)


def run(plant: Plant, seconds: float) -> None:
    for _ in range(int(seconds / DT)):
        plant.step(DT, 23.0)


def start_runaway(plant: Plant, unit: int) -> None:
    """What the scenario event does (world.py), severity 1."""
    plant.short_conductance_s[unit] = RUNAWAY_SHORT_S_PER_V
    plant.cooling_multiplier[unit] = 0.6
    plant.i0_multiplier[unit] *= 3.0


def test_one_block_with_a_hundred_times_the_float_current_moves_the_string_current_little() -> None:
    plant = vrla_string()
    run(plant, HOUR)
    i_before = plant.string_current_a[0]
    plant.i0_multiplier[6] = 100.0  # a block gassing 100x at the same voltage (dry-out)
    run(plant, HOUR)
    ratio = plant.string_current_a[0] / i_before
    assert 1.05 < ratio < 1.35  # 100^(1/24) = 1.21, less the part of its voltage it cannot lose
    assert plant.voltage_v[6] < np.median(plant.voltage_v) - 0.5  # its voltage is what shows it


def test_runaway_block_heats_faster_and_faster_and_sags_while_the_string_current_stays_flat() -> None:
    plant = vrla_string()
    run(plant, 60)
    i_before = plant.string_current_a[0]
    start_runaway(plant, 6)
    temps, sags, currents = [], [], []
    for _ in range(6):
        run(plant, HOUR)
        others = np.delete(np.arange(24), 6)
        temps.append(plant.temp_c[6] - np.median(plant.temp_c[others]))
        sags.append((np.median(plant.voltage_v) - plant.voltage_v[6]) / 6)
        currents.append(plant.string_current_a[0] / i_before)
    rises = np.diff([0.0, *temps])
    assert (np.diff(rises) > 0).all(), f"not accelerating: {rises}"  # positive feedback
    assert temps[1] < 8.0 < temps[4]  # hot by the default margin after a few hours
    assert min(sags) > 0.1  # discharging through the short: below 2.17 V/cell on float
    assert max(currents) < 1.3  # the string current alone would not tell
