"""A transport straight onto a simulator World's bus, without timing: for captures under a ManualClock."""

from __future__ import annotations

from gateway.core.components import EmptyConfig, GatewayContext, Transport
from plugins.simulator.world import World


class WorldLine(Transport):
    """Requests go to ``world.bus(line)``; replies are readable at once."""

    Config = EmptyConfig

    def __init__(self, ctx: GatewayContext, world: World, line: str | None = None) -> None:
        super().__init__("world://", EmptyConfig(), ctx)
        self.world, self.line = world, line
        self._rx = b""

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def write(self, data: bytes) -> None:
        self._rx += b"".join(r.data for r in self.world.bus(self.line).request(data))

    async def read(self, size: int, timeout: float) -> bytes:
        out, self._rx = self._rx[:size], self._rx[size:]
        return out

    def reset_input(self) -> None:
        self._rx = b""
