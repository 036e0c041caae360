"""The ``modbus`` service: a Modbus TCP server and, optionally, an RTU slave, serving one map.

Both answer from the latest snapshot (register images rebuilt lazily per snapshot) and
never wait on the bus; writes go through the command queue (see ``writes.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from gateway.core.components import GatewayContext, Service
from gateway.core.logging import get_logger
from plugins.northbound_modbus import logfilter
from plugins.northbound_modbus.compiler import CompiledMap, Layout, MapCompileError, compile_map
from plugins.northbound_modbus.config import ModbusServiceConfig
from plugins.northbound_modbus.datastore import MapDatastore
from plugins.northbound_modbus.images import ImageBuilder
from plugins.northbound_modbus.mapfile import DEFAULT_MAP, load_map
from plugins.northbound_modbus.writes import WriteGate, WritePolicy

log = get_logger("plugins.northbound_modbus")


def map_path(config: ModbusServiceConfig, ctx_resolve: Any) -> Path:
    """The map file a service config names (``default`` = the plugin's documented map)."""
    return DEFAULT_MAP if config.map == "default" else Path(ctx_resolve(config.map))


def load_and_compile(path: Path, layout: Layout) -> CompiledMap:
    """Load and compile a map file; every error names the file."""
    regmap = load_map(path)
    try:
        return compile_map(regmap, layout)
    except MapCompileError as e:
        raise MapCompileError(f"{path}: {e}") from None


def compile_for(config: ModbusServiceConfig, layout: Layout, resolve: Any) -> CompiledMap:
    """Load and compile the service's map for a site layout (raises with file and key path)."""
    return load_and_compile(map_path(config, resolve), layout)


class ModbusService(Service):
    """Modbus TCP server and RTU slave with a YAML register map."""

    Config = ModbusServiceConfig
    summary: ClassVar[str] = "Modbus TCP server and RTU slave serving a YAML register map"

    def __init__(self, config: ModbusServiceConfig, ctx: GatewayContext) -> None:  # type: ignore[override]
        super().__init__(config, ctx)
        self.config: ModbusServiceConfig = config
        self.store: MapDatastore | None = None
        self.tcp: Any = None
        self.rtu: Any = None
        self._log_filter: logfilter.BurstFilter | None = None

    @property
    def port(self) -> int | None:
        """The TCP port actually bound (useful with ``port: 0``)."""
        if self.tcp is None or self.tcp.transport is None:
            return None
        return int(self.tcp.transport.sockets[0].getsockname()[1])

    def _layout(self) -> Layout:
        if self.ctx.config is not None:
            return Layout.from_config(self.ctx.config)
        snap = self.ctx.snapshot()  # no config (tests, embedding): the snapshot's own layout
        return Layout(tuple(len(s.units) for s in snap.strings))

    async def start(self) -> None:
        from plugins.northbound_modbus.server import MapSerialServer, MapTcpServer

        cfg = self.config
        self._log_filter = logfilter.install()
        compiled = compile_for(cfg, self._layout(), self.ctx.resolve)
        policy = WritePolicy(
            cfg.writes.enabled, tuple(cfg.writes.allow), cfg.writes.role, cfg.writes.timeout_s
        )
        gate = WriteGate(compiled, policy, self.ctx)
        builder = ImageBuilder(compiled, holding_mirrors_input=cfg.holding_mirrors_input)
        if cfg.tcp.enabled:
            self.tcp = MapTcpServer(self._store(builder, gate, rtu=False), cfg.tcp.host, cfg.tcp.port)
            await self._listen(self.tcp, f"TCP {cfg.tcp.host}:{cfg.tcp.port}")
        if cfg.rtu is not None:
            rtu = cfg.rtu
            self.rtu = MapSerialServer(
                self._store(builder, gate, rtu=True), rtu.port, rtu.baud, rtu.parity, rtu.stopbits
            )
            await self._listen(self.rtu, f"RTU {rtu.port}")
        log.info(
            "modbus service started",
            map=compiled.name or cfg.map,
            points=len(compiled.points),
            tcp_port=self.port,
            rtu=cfg.rtu.port if cfg.rtu else None,
            unit_ids=cfg.unit_ids,
            writes=cfg.writes.enabled,
        )

    def _store(self, builder: ImageBuilder, gate: WriteGate, *, rtu: bool) -> MapDatastore:
        self.store = MapDatastore(
            builder,
            self.ctx.snapshot,
            self.ctx.clock,
            gate,
            self.config.unit_ids,
            stale_after_s=self.config.stale_after_s,
            allow_gaps=self.config.allow_gaps,
            silent_for_other_ids=rtu,
        )
        return self.store

    async def _listen(self, server: Any, what: str) -> None:
        try:
            listening = await server.listen()
            error = "in use, or no permission?"
        except Exception as e:  # pyserial raises termios.error for settings a port cannot take
            listening, error = False, f"{e!r}"
        if not listening:
            await self.stop()
            raise OSError(f"modbus: cannot listen on {what} ({error})")

    async def stop(self) -> None:
        for server in (self.tcp, self.rtu):
            if server is None:
                continue
            try:
                await server.shutdown()
            except Exception as e:  # stop must not raise
                log.warning("modbus server did not shut down cleanly", error=repr(e))
            pending = list(server.tasks)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        self.tcp = self.rtu = None
        if self._log_filter is not None:
            logfilter.uninstall(self._log_filter)
            self._log_filter = None
