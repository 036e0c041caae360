"""The ``sim://NAME`` transport: a gateway line whose far end is a simulated bus of monitors.

Every line with the URL ``sim://NAME`` of one gateway shares one :class:`World` named NAME;
each line is its own bus holding the devices the root config binds to that line's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import structlog

from gateway.core.components import GatewayContext, Transport
from plugins.simulator.bus import SimBus, sleep_until, wire_time_s
from plugins.simulator.options import SimOptions
from plugins.simulator.scenario import Scenario, load_scenario, resolve_scenario
from plugins.simulator.site import SiteSpec, quick_site, site_from_config
from plugins.simulator.world import World

log = structlog.get_logger("plugins.simulator")


@dataclass
class _Shared:
    world: World
    users: set[SimTransport] = field(default_factory=set)
    ticker: asyncio.Task[None] | None = None


_WORLDS: dict[tuple[int, str], _Shared] = {}


def running_worlds() -> list[World]:
    """Worlds of the in-process transports now open (tests reach the simulator through this)."""
    return [s.world for s in _WORLDS.values()]


def running_world(name: str = "demo") -> World:
    """The open world called ``name`` (raises if none or several gateways run one)."""
    found = [s.world for (_k, n), s in _WORLDS.items() if n == name]
    if len(found) != 1:
        raise LookupError(f"{len(found)} simulated worlds named {name!r} are open")
    return found[0]


def world_name(url: str) -> str:
    """``sim://demo`` → ``demo`` (an empty name means ``demo``)."""
    if "://" not in url:
        return "demo"
    return url.split("://", 1)[1].strip("/") or "demo"


def _sim_lines(cfg: Any, name: str) -> list[Any]:
    lines = list(getattr(cfg, "lines", None) or [])
    return [ln for ln in lines if str(ln.url).startswith("sim://") and world_name(ln.url) == name]


def _build_site(cfg: Any, name: str, line_name: str) -> SiteSpec:
    """The part of the configured site on this world's lines; the demo site when nothing is bound."""
    if cfg is not None and getattr(cfg, "lines", None):
        names = {ln.name for ln in _sim_lines(cfg, name)}
        site = site_from_config(cfg).only_lines(names)
        if site.strings or site.ambient or site.aux:
            return site
    demo = quick_site(units=24, model="C20", strings=2, line=line_name)
    return (
        SiteSpec(
            demo.name,
            {**{ln.name: int(ln.baud) for ln in _sim_lines(cfg, name)}, line_name: 19200},
            demo.strings,
            demo.ambient,
            demo.aux,
        )
        if cfg is not None
        else demo
    )


class SimTransport(Transport):
    """In-process simulator line (``url: sim://NAME``)."""

    Config = SimOptions
    summary = "simulated bus of battery monitors on physically modelled batteries (sim://NAME)"

    def __init__(self, url: str, config: SimOptions, ctx: GatewayContext) -> None:  # type: ignore[override]
        super().__init__(url, config, ctx)
        self.options: SimOptions = config
        self.name = world_name(url)
        self.line_baud = 19200  # the bus master sets the line's baud here
        self.line_name: str | None = None
        self.bus: SimBus | None = None
        self._pending: list[tuple[float, bytes]] = []  # (loop time it arrives, bytes)
        self._arrived = asyncio.Event()

    @property
    def char_time_s(self) -> float:
        return 10.0 / self.line_baud if self.options.emulate_timing else 0.0

    @property
    def world(self) -> World:
        return _WORLDS[(id(self.ctx.clock), self.name)].world

    # ------------------------------------------------------------------ lifecycle
    def _claim_line(self, shared: _Shared | None) -> str:
        cfg = self.ctx.config
        candidates = _sim_lines(cfg, self.name) if cfg is not None else []
        options = list(getattr(cfg, "line_options", None) or [])
        for i, ln in enumerate(getattr(cfg, "lines", None) or []):
            if i < len(options) and options[i] is self.config and ln in candidates:
                return str(ln.name)
        taken = {t.line_name for t in shared.users} if shared else set()
        for ln in candidates:
            if ln.name not in taken:
                return str(ln.name)
        return "bus1"

    async def open(self) -> None:
        if self.bus is not None:
            return
        key = (id(self.ctx.clock), self.name)
        shared = _WORLDS.get(key)
        self.line_name = self._claim_line(shared)
        if shared is None:
            site = _build_site(self.ctx.config, self.name, self.line_name)
            scenario: Scenario | None = None
            if self.options.scenario:
                scenario = load_scenario(resolve_scenario(self.options.scenario, self.ctx.config_dir))
            shared = _Shared(World(site, self.options, self.ctx.clock, name=self.name, scenario=scenario))
            _WORLDS[key] = shared
            if math.isfinite(self.ctx.clock.speed):
                shared.ticker = asyncio.create_task(shared.world.run(), name=f"sim-world-{self.name}")
            log.info(
                "simulated site started",
                world=self.name,
                units=shared.world.plant.n_units,
                lines=list(shared.world.buses),
                scenario=self.options.scenario,
            )
        bus = shared.world.bus(self.line_name)
        if bus.baud != self.line_baud:
            shared.world.set_line_baud(self.line_name, self.line_baud)
        bus.latency_s = self.options.latency_ms / 1000
        bus.faults.crc_error_rate = self.options.crc_error_rate
        bus.faults.drop_rate = self.options.drop_rate
        bus.faults.garbage_rate = self.options.garbage_rate
        for dev in bus.devices:
            if dev.address in self.options.dead_units:
                dev.silent = True
        shared.users.add(self)
        self.bus = bus

    async def close(self) -> None:
        if self.bus is None:
            return
        self.bus = None
        key = (id(self.ctx.clock), self.name)
        shared = _WORLDS.get(key)
        if shared is None:
            return
        shared.users.discard(self)
        if not shared.users:
            del _WORLDS[key]
            if shared.ticker is not None:
                shared.ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await shared.ticker

    # ------------------------------------------------------------------ bytes
    async def write(self, data: bytes) -> None:
        if self.bus is None:
            raise OSError(f"{self.url} is not open")
        loop = asyncio.get_running_loop()
        start = loop.time()
        replies = self.bus.request(bytes(data))
        if self.options.emulate_timing:
            await sleep_until(start + wire_time_s(len(data), self.line_baud))
        for reply in replies:
            # a reply's delay counts from handing the request to the line (real time: the wire is real)
            self._pending.append(
                (start + (reply.delay_s if self.options.emulate_timing else 0.0), reply.data)
            )
        if replies:
            self._arrived.set()

    async def read(self, size: int, timeout: float) -> bytes:
        if self.bus is None:
            raise OSError(f"{self.url} is not open")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            now = loop.time()
            if self._pending and self._pending[0][0] <= now:
                _t, data = self._pending.pop(0)
                if len(data) > size:
                    self._pending.insert(0, (now, data[size:]))
                    data = data[:size]
                return data
            if self._pending and self._pending[0][0] <= deadline:
                await sleep_until(self._pending[0][0])  # the reply is on its way: it ends then
                continue
            if deadline <= now:
                return b""
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - now)

    def reset_input(self) -> None:
        self._pending.clear()
