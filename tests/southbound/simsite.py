"""Sites on the real simulator (``sim://``), for integration tests of the bus master."""

from __future__ import annotations

from typing import Any

from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import CycleResult, bindings_for_line
from gateway.core.clock import ManualClock
from gateway.core.config import GatewayConfig
from plugins.simulator.options import SimOptions
from plugins.simulator.transport import SimTransport
from tests.southbound.helpers import DRIVERS, make_ctx


def site_config(
    model: str = "C20", count: int = 6, world: str = "t", baud: int = 19200, sensors: bool = True
) -> GatewayConfig:
    data: dict[str, Any] = {
        "lines": [{"name": "bus1", "url": f"sim://{world}", "baud": baud}],
        "strings": [
            {
                "name": "A",
                "units": {"model": model, "count": count, "bus": "bus1", "first_address": 1},
                **({"current_sensor": {"bus": "bus1", "address": 100}} if sensors else {}),
            }
        ],
        "sensors": {"ambient": {"bus": "bus1", "address": 110}, "aux": {"bus": "bus1", "address": 120}}
        if sensors
        else {},
    }
    return GatewayConfig.model_validate(data)


def sim_master(
    config: GatewayConfig, options: SimOptions | None = None, clock: Any = None, **polling: Any
) -> tuple[BusMaster, SimTransport, list[CycleResult]]:
    ctx = make_ctx(clock or ManualClock(1_750_000_000.0))
    ctx.config = config
    line = config.lines[0]
    transport = SimTransport(line.url, options or SimOptions(), ctx)
    results: list[CycleResult] = []
    polling.setdefault("cycle_s", 2.0)
    bindings = bindings_for_line(config, line.name, DRIVERS)
    master = BusMaster(line, transport, bindings, DRIVERS, ctx, results.append, BusSettings(**polling))
    master.ri_permitted = lambda _a: True
    return master, transport, results
