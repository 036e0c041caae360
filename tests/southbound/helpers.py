"""Shared helpers of the southbound tests: a context, a line config, a master with a result log."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import CycleResult, MonitorBinding
from gateway.core.clock import ManualClock, RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext, Transport
from gateway.core.events import EventBus
from plugins.monitors.plugin import BLOCK_DRIVERS, SENSOR_DRIVERS, GenericMapDriver

DRIVERS = {c.model: c for c in (*BLOCK_DRIVERS, *SENSOR_DRIVERS, GenericMapDriver)}


def make_ctx(clock: Any = None, config_dir: Path | None = None) -> GatewayContext:
    return GatewayContext(
        clock=clock or RealClock(),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=config_dir or Path("."),
        data_dir=Path("."),
    )


def line(name: str = "bus1", url: str = "fake://line", baud: int = 19200, **polling: Any) -> SimpleNamespace:
    return SimpleNamespace(name=name, url=url, baud=baud, options={}, polling=polling)


def make_master(
    transport: Transport,
    bindings: list[MonitorBinding],
    ctx: GatewayContext | None = None,
    **polling: Any,
) -> tuple[BusMaster, list[CycleResult]]:
    results: list[CycleResult] = []
    polling.setdefault("cycle_s", 0)
    ctx = ctx or transport.ctx
    m = BusMaster(line(**polling), transport, bindings, DRIVERS, ctx, results.append, BusSettings(**polling))
    m.ri_permitted = lambda address: True
    return m, results


def manual_ctx() -> GatewayContext:
    return make_ctx(ManualClock(1_700_000_000.0))
