"""A small in-memory trend store, used for the trend charts when no history store is configured.

It keeps the last ``points`` samples of every unit and string figure in numpy ring buffers,
one sample per ``interval_s`` of simulated time, so a gateway without history still draws
its last few hours. With a history store, the API asks that store instead.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from gateway.core.model import Snapshot

UNIT_SERIES = ("voltage_v", "temperature_c", "ri_ohm", "soc", "soh", "equalize_duty")
STRING_SERIES = ("voltage_v", "current_a", "spread_v", "soc")
SITE_SERIES = ("ambient_c", "humidity_pct")
SOURCE_RE = re.compile(r"^(site|strings\[(\d{1,4})\](?:\.units\[(\d{1,5})\])?)$")


class TrendBuffer:
    """Ring buffers of recent samples, indexed by source name (``strings[0].units[3]``)."""

    def __init__(self, points: int, interval_s: float) -> None:
        self.points = points
        self.interval_s = interval_s
        self._t = np.full(points, np.nan)
        self._data: dict[str, dict[str, np.ndarray]] = {}
        self._next = 0
        self._count = 0
        self._last_t: float | None = None

    def record(self, snapshot: Snapshot) -> bool:
        """Take a sample of ``snapshot`` if ``interval_s`` has passed since the last one."""
        if snapshot.version == 0:
            return False
        if self._last_t is not None and snapshot.time - self._last_t < self.interval_s:
            return False
        self._last_t = snapshot.time
        i = self._next
        self._t[i] = snapshot.time
        self._put("site", SITE_SERIES, i, (snapshot.ambient_c, snapshot.humidity_pct))
        for s in snapshot.strings:
            self._put(f"strings[{s.index}]", STRING_SERIES, i, (s.voltage_v, s.current_a, s.spread_v, s.soc))
            for u in s.units:
                # unit index in the source name is 0-based, like the engine's and history's
                self._put(
                    f"strings[{s.index}].units[{u.position - 1}]",
                    UNIT_SERIES,
                    i,
                    (u.voltage_v, u.temperature_c, u.ri_ohm, u.soc, u.soh, u.equalize_duty),
                )
        self._next = (i + 1) % self.points
        self._count = min(self._count + 1, self.points)
        return True

    def _put(self, source: str, names: tuple[str, ...], i: int, values: tuple[float | None, ...]) -> None:
        arrays = self._data.get(source)
        if arrays is None:
            arrays = self._data[source] = {n: np.full(self.points, np.nan) for n in names}
        for name, value in zip(names, values, strict=True):
            arrays[name][i] = np.nan if value is None else value

    def series(self, source: str, fields: list[str], t_from: float, t_to: float) -> dict[str, list[Any]]:
        """``{"t": [...], field: [...]}`` oldest first, ``None`` where a value was missing."""
        arrays = self._data.get(source, {})
        order = np.roll(np.arange(self.points), -self._next)[self.points - self._count :]
        t = self._t[order]
        keep = (t >= t_from) & (t <= t_to)
        out: dict[str, list[Any]] = {"t": t[keep].tolist()}
        for name in fields:
            column = arrays.get(name)
            values = column[order][keep] if column is not None else np.full(int(keep.sum()), np.nan)
            out[name] = [v if math.isfinite(v) else None for v in values.tolist()]
        return out

    def has(self, source: str) -> bool:
        return source in self._data
