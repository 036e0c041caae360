"""The sensor model: what the monitors and the string current sensor report for the true values
(gain, offset, noise, resolution, range, lost replies, Ri readings every 6 h on rest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.groundtruth.chemistry import Chemistry, FloatArray

RI_FIRST_S = 300.0
RI_PERIOD_S = 6 * 3600.0
RI_LSB_OHM = 1e-5
LOST_SHARE = 0.01  # of monitor replies, current readings and ambient readings


@dataclass
class Measured:
    """series.csv's columns (NaN = empty) and the draws truth.yaml reports."""

    voltage: FloatArray  # (row, unit)
    temperature: FloatArray  # (row, unit)
    ri: FloatArray  # (row, unit), NaN except at Ri readings
    current: FloatArray
    ambient: FloatArray
    v_gain: FloatArray
    v_offset: FloatArray
    temp_offset: FloatArray
    ri_bias: FloatArray
    i_gain: float
    i_offset: float
    ambient_offset: float
    lost_unit_readings: int
    ri_times: list[float]


def measure(
    rng: np.random.Generator,
    chem: Chemistry,
    ambient_c: float,
    rows: FloatArray,
    true_current: FloatArray,
    true_voltage: FloatArray,
    true_temperature: FloatArray,
    ri_ohm: FloatArray,
) -> Measured:
    """Apply the sensor model. The order of the draws is part of the output: keep it."""
    m, n = int(true_voltage.shape[0]), int(true_voltage.shape[1])
    v_gain = rng.uniform(-0.0025, 0.0025, n)
    v_offset = rng.uniform(-0.005, 0.005, n)
    temp_offset = rng.uniform(-1.0, 1.0, n)
    ri_bias = rng.uniform(-0.01, 0.01, n)
    i_gain = rng.uniform(-0.005, 0.005)
    i_offset = rng.uniform(-0.05, 0.05)
    ambient_offset = rng.uniform(-1.0, 1.0)

    voltage = true_voltage * (1 + v_gain) + v_offset + rng.normal(0, 1, (m, n)) * 0.001 * true_voltage
    lsb = 10.0**-chem.v_decimals
    voltage = np.clip(np.round(voltage / lsb) * lsb, *chem.v_clip)
    temperature = np.round((true_temperature + temp_offset + rng.normal(0, 0.2, (m, n))) * 10) / 10
    current = (
        np.round(
            (true_current * (1 + i_gain) + i_offset + rng.normal(0, 1, m) * 0.001 * np.abs(true_current))
            * 1000
        )
        / 1000
    )
    ambient = np.round((ambient_c + ambient_offset + rng.normal(0, 0.2, m)) * 10) / 10
    lost = rng.random((m, n)) < LOST_SHARE
    lost_current = rng.random(m) < LOST_SHARE
    lost_ambient = rng.random(m) < LOST_SHARE

    # Ri: a monitor measures it only while the string rests (or floats), every 6 h
    ri = np.full((m, n), np.nan)
    ri_times: list[float] = []
    resting = np.abs(true_current) < 1e-9
    t = RI_FIRST_S
    while t <= rows[-1]:
        k = np.nonzero(np.abs(rows - t) < 1e-6)[0]
        if k.size and resting[k[0]]:
            ri_times.append(float(t))
            values = ri_ohm * (1 + ri_bias) * (1 + 0.02 * rng.normal(0, 1, n))
            ri[k[0]] = np.round(values / RI_LSB_OHM) * RI_LSB_OHM
        t += RI_PERIOD_S

    voltage[lost] = np.nan
    temperature[lost] = np.nan
    ri[lost] = np.nan
    current[lost_current] = np.nan
    ambient[lost_ambient] = np.nan
    return Measured(
        voltage,
        temperature,
        ri,
        current,
        ambient,
        v_gain,
        v_offset,
        temp_offset,
        ri_bias,
        float(i_gain),
        float(i_offset),
        float(ambient_offset),
        int(lost.sum()),
        ri_times,
    )
