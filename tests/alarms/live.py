"""The gateway in-process on the simulator, for end-to-end alarm tests (relays, scenarios)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import yaml

from gateway.core.clock import ScaledClock
from gateway.core.commands import Actor
from gateway.core.config import load_config
from gateway.core.events import Event
from gateway.core.model import Snapshot
from gateway.core.runtime import Gateway
from gateway.plugins import load_plugins

ADMIN = Actor("ada", "admin", "127.0.0.1", "test")


def make_gateway(
    tmp_path: Path,
    speed: float,
    options: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
    alarms: dict[str, Any] | None = None,
    polling: dict[str, Any] | None = None,
) -> Gateway:
    cfg = {
        "site": {"name": "Relay site"},
        "data_dir": "var",
        "lines": [
            {
                "name": "bus1",
                "url": f"sim://{tmp_path.name}",
                "options": {"seed": 3, **(options or {})},
                "polling": polling or {},
            }
        ],
        "strings": [
            {
                "name": "String A",
                "chemistry": "vrla",
                "nominal_voltage_v": 12.0,
                "rated_capacity_ah": 100.0,
                "units": {"model": "C20", "count": 24, "bus": "bus1", "first_address": 1},
                "current_sensor": {"bus": "bus1", "address": 100},
            }
        ],
        "sensors": {"ambient": {"bus": "bus1", "address": 110}, "aux": {"bus": "bus1", "address": 120}},
        "engine": engine or {},
        "alarms": alarms or {},
        "logging": {"level": "warning"},
    }
    path = tmp_path / "cellgate.yaml"
    path.write_text(yaml.safe_dump(cfg))
    pl = load_plugins()
    return Gateway(load_config(path, pl), pl, ScaledClock(speed))


async def wait_for(gw: Gateway, predicate: Callable[[Snapshot], bool], timeout: float, what: str) -> Snapshot:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        snap = gw.ctx.snapshot()
        if predicate(snap):
            return snap
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s (snapshot {gw.ctx.snapshot().version})")


def relay(snap: Snapshot, k: int) -> bool | None:
    return snap.relays[k] if len(snap.relays) > k else None


@contextlib.asynccontextmanager
async def recording(gw: Gateway) -> AsyncIterator[list[Event]]:
    """Every event published while the block runs, in order."""
    events: list[Event] = []
    sub = gw.events.subscribe()

    async def collect() -> None:
        # one by one, not a comprehension: the test reads the list while this runs
        async for e in sub:
            events.append(e)  # noqa: PERF401

    task = asyncio.create_task(collect())
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gw.events.unsubscribe(sub)
