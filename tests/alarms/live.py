"""The gateway in-process on the simulator, for end-to-end alarm tests (relays, scenarios)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from gateway.core.clock import ScaledClock
from gateway.core.commands import Actor
from gateway.core.config import load_config
from gateway.core.events import Event
from gateway.core.model import Snapshot
from gateway.core.runtime import Gateway
from gateway.plugins import load_plugins
from tests.livesite import write_sim_site

ADMIN = Actor("ada", "admin", "127.0.0.1", "test")


def make_gateway(
    tmp_path: Path,
    speed: float,
    options: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
    alarms: dict[str, Any] | None = None,
    polling: dict[str, Any] | None = None,
) -> Gateway:
    path = write_sim_site(tmp_path, options=options, polling=polling, engine=engine, alarms=alarms, aux=True)
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
