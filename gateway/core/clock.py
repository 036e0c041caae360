"""One notion of time for the whole gateway: real time, accelerated simulation, or replay.

Every component asks the clock, never ``time.time()`` or ``asyncio.sleep()`` directly, so
the same engine code runs live, at ``--speed 60`` on the simulator, and in ``cellgate
replay`` where time comes from the trace.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What components may ask of time."""

    speed: float

    def now(self) -> float:
        """Wall-clock time of the simulated world, seconds since the epoch."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale of the simulated world (for intervals, timeouts)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""


class RealClock:
    """Time as it passes: what ``cellgate run`` uses on real hardware."""

    speed = 1.0

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Time running ``speed`` times faster than real time (``--speed``), from a start instant.

    Simulated seconds are real seconds times ``speed``, so a day of float at speed 1440
    passes in a minute while every component keeps thinking in its own seconds.
    """

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = float(speed)
        self._t0_real = time.monotonic()
        self._t0_sim = time.time() if start is None else start

    def now(self) -> float:
        return self._t0_sim + (time.monotonic() - self._t0_real) * self.speed

    def monotonic(self) -> float:
        return (time.monotonic() - self._t0_real) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class ManualClock:
    """Time that moves only when told: replay and co-simulation set it from their data.

    ``sleep`` advances the clock at once instead of waiting, so a loop written for real
    time runs as fast as the CPU allows.
    """

    speed = float("inf")

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def monotonic(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        """Move time to ``t`` (never backwards)."""
        self._t = max(self._t, float(t))

    def advance(self, seconds: float) -> None:
        self._t += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
