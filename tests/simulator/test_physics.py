"""The batteries behind the monitors: float spread, bypass, outage runtime, temperature, chemistries."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.simulator.chemistry import CHEMISTRIES, parameters
from plugins.simulator.physics import Plant, StringSetup

HOUR = 3600


def vrla_string(count: int = 24, seed: int = 1, **kw) -> Plant:
    return Plant([StringSetup("vrla", 12.0, 100.0, count)], np.random.default_rng(seed), **kw)


def run(plant: Plant, seconds: float, ambient_c: float = 24.0, dt: float = 1.0) -> None:
    for _ in range(int(seconds / dt)):
        plant.step(dt, ambient_c)


def test_float_voltages_spread_by_a_few_hundred_mv_and_bypass_on_the_high_blocks_narrows_it():
    plant = vrla_string()
    run(plant, 2 * HOUR)
    v = plant.voltage_v.copy()
    spread = v.max() - v.min()
    assert 0.15 < spread < 0.8
    assert plant.string_voltage_v[0] == pytest.approx(plant.charger_setpoint_v()[0], abs=0.01)
    assert 0.05 < plant.string_current_a[0] < 0.3  # ~1 mA/Ah float current
    # an integral controller raising the bypass of the blocks above the mean (as equalization does)
    bypass = np.zeros(24)
    for _ in range(12):
        v = plant.voltage_v
        bypass = np.clip(bypass + 0.1 * (v - v.mean()), 0.0, 0.15)  # C20: at most 150 mA
        plant.bypass_a[:] = bypass
        run(plant, 300)
    v = plant.voltage_v
    assert v.max() - v.min() < 0.5 * spread
    assert bypass[np.argsort(v)[-6:]].mean() > bypass[np.argsort(v)[:6]].mean()


def test_constant_power_outage_ends_at_the_ups_cutoff_in_a_plausible_time():
    plant = vrla_string()
    plant.ups_power_w[0] = 10_000.0  # 10 kW from a 288 V, 100 Ah string: about 35 A
    run(plant, 600)
    plant.mains_on[0] = False
    p = plant.ups_power_w[0]
    seconds = 0
    while not plant.load_cut_off[0] and seconds < 10 * HOUR:
        plant.step(1.0, 24.0)
        seconds += 1
    assert plant.load_cut_off[0]
    assert plant.string_voltage_v[0] < 24 * 6 * 1.80  # near the 1.75 V/cell end voltage
    current = p / (24 * 12.0)
    peukert_s = 10 * HOUR * (10.0 / current) ** (parameters("vrla").peukert_k)  # C10 at I10 = 10 A
    assert 0.6 * peukert_s < seconds < 1.3 * peukert_s
    assert plant.soc.mean() < 0.1
    # mains back: the charger recharges at its current limit
    plant.mains_on[0] = True
    run(plant, 600)
    assert plant.string_current_a[0] == pytest.approx(10.0, rel=0.01)
    assert not plant.load_cut_off[0]


def test_float_current_rises_with_temperature():
    cool, warm = vrla_string(seed=3), vrla_string(seed=3)
    cool.temperature_compensation[:] = warm.temperature_compensation[:] = False
    run(cool, 12 * HOUR, ambient_c=25.0, dt=10.0)
    run(warm, 12 * HOUR, ambient_c=35.0, dt=10.0)
    ratio = warm.string_current_a[0] / cool.string_current_a[0]
    assert 1.6 < ratio < 2.5  # doubles per ~10 K
    # one hot block: its own float voltage falls, the string's float current rises
    hot = vrla_string(seed=3)
    run(hot, HOUR)
    before_v, before_i = hot.voltage_v[4], hot.string_current_a[0]
    hot.cooling_multiplier[4] = 0.1  # e.g. next to a heat source
    run(hot, 24 * HOUR, dt=10.0)
    assert hot.temp_c[4] > hot.temp_c[3] + 2
    assert hot.voltage_v[4] < before_v - 0.05
    assert hot.string_current_a[0] > before_i


def test_temperatures_sit_a_little_above_ambient_on_float():
    plant = vrla_string()
    run(plant, 24 * HOUR, ambient_c=22.0, dt=10.0)
    rise = plant.temp_c - 22.0
    assert rise.min() > 0.2
    assert rise.max() < 3.0


@pytest.mark.parametrize("chemistry", list(CHEMISTRIES))
def test_every_chemistry_floats_and_discharges_sensibly(chemistry):
    q = CHEMISTRIES[chemistry]
    plant = Plant([StringSetup(chemistry, q.cell_nominal_v * 4, 50.0, 8)], np.random.default_rng(2))
    run(plant, HOUR, dt=5.0)
    assert np.all(np.isfinite(plant.voltage_v))
    per_cell = plant.voltage_v / 4
    assert np.all(per_cell > q.ocv_v[-1] - 0.05)
    assert np.all(per_cell < q.boost_v + 0.05)
    plant.mains_on[0] = False
    run(plant, 600, dt=1.0)
    assert plant.string_current_a[0] < 0
    assert plant.soc.mean() < 0.999
