"""What the hub remembers between cycles and across restarts.

``LatestReadings`` keeps the newest reading of every channel and sensor and turns them into
the engine's per-string arrays (fresh values only, so nothing is counted twice); ``StateFile``
persists learnt capacities, Ri baselines and unacknowledged alarms atomically, so a
``kill -9`` never leaves a half-written file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from gateway.core.engine import Measurement
from gateway.core.model import ChannelReading, Quality, SensorReading
from gateway.core.topology import UnitBinding

#: a reading older than this many bus cycles is stale, not current
STALE_AFTER_CYCLES = 3
_USABLE = (Quality.GOOD, Quality.OUT_OF_RANGE)


class LatestReadings:
    """The newest reading of every channel and sensor, and which of them the engine has seen."""

    def __init__(self) -> None:
        self.channels: dict[tuple[str, int, int], ChannelReading] = {}
        self.sensors: dict[tuple[str, int], SensorReading] = {}
        self.comm_lost: dict[str, frozenset[int]] = {}
        self._seen_time: dict[tuple[str, int, int], float] = {}
        self._seen_ri: dict[tuple[str, int, int], float] = {}
        self._seen_sensor: dict[tuple[str, int, str], float] = {}

    def add(self, readings: list[ChannelReading | SensorReading]) -> None:
        for r in readings:
            if isinstance(r, ChannelReading):
                self.channels[(r.bus, r.address, r.channel)] = r
            else:
                self.sensors[(r.bus, r.address)] = r

    def is_comm_lost(self, bus: str, address: int) -> bool:
        return address in self.comm_lost.get(bus, frozenset())

    def sensor_value(self, bus: str, address: int, key: str, *, fresh_only: bool = False) -> float:
        """A sensor's value, NaN when missing, faulty, comm-lost or (``fresh_only``) already used.

        An over-range reading is kept: the sensor clips it to its range limit, so its sign and a
        lower bound of its size are right. Dropping it would hide a discharge from the engine
        (a 100 A sensor on a string that draws 250 A in an outage); the alarm
        ``string_current_over_range`` says the sensor is too small."""
        r = self.sensors.get((bus, address))
        if r is None or r.quality not in _USABLE or self.is_comm_lost(bus, address):
            return math.nan
        if fresh_only:
            if self._seen_sensor.get((bus, address, key), -1.0) >= r.time:
                return math.nan
            self._seen_sensor[(bus, address, key)] = r.time
        v = r.values.get(key)
        return float(v) if v is not None else math.nan

    def sensor_flags(self, bus: str, address: int) -> frozenset[str]:
        """The flags of a sensor's newest reading (``over_range``, ``sensor_fault``), if it answers."""
        r = self.sensors.get((bus, address))
        if r is None or self.is_comm_lost(bus, address):
            return frozenset()
        return r.flags

    def measurement(
        self, units: list[UnitBinding], t: float, current_a: float, ambient_c: float
    ) -> Measurement:
        """The engine's input for one string: values not handed over before, NaN elsewhere."""
        n = len(units)
        v, temp, ri, byp = (np.full(n, math.nan) for _ in range(4))
        measuring = np.zeros(n, bool)
        for k, b in enumerate(units):
            key = (b.bus, b.address, b.channel)
            r = self.channels.get(key)
            if r is None or self.is_comm_lost(b.bus, b.address):
                continue
            byp[k] = r.bypass_current_a
            measuring[k] = "ri_measuring" in r.flags
            if self._seen_time.get(key, -1.0) < r.time:
                self._seen_time[key] = r.time
                if r.voltage_v is not None and "fuse_open" not in r.flags:
                    v[k] = r.voltage_v
                if r.temperature_c is not None:
                    temp[k] = r.temperature_c
            if r.ri_ohm is not None and r.ri_age_s is not None:
                taken = r.time - r.ri_age_s  # when that Ri measurement was made
                if taken > self._seen_ri.get(key, -math.inf) + 1.0:
                    self._seen_ri[key] = taken
                    ri[k] = r.ri_ohm
        return Measurement(t, current_a, ambient_c, v, temp, ri, byp, measuring)

    def quality(self, b: UnitBinding, now: float, stale_after_s: float) -> Quality:
        r = self.channels.get((b.bus, b.address, b.channel))
        if self.is_comm_lost(b.bus, b.address):
            return Quality.COMM_LOST
        if r is None:
            return Quality.NO_DATA
        if now - r.time > stale_after_s:
            return Quality.STALE
        return r.quality


class StateFile:
    """A JSON file replaced atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(data, f, default=_jsonable)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
