"""A transport that replays a golden capture: each request must be the captured bytes, the reply follows."""

from __future__ import annotations

from gateway.core.components import EmptyConfig, GatewayContext, Transport


class ReplayTransport(Transport):
    """Plays back ``(request, reply)`` pairs; a request that differs from the capture fails the test."""

    Config = EmptyConfig

    def __init__(self, ctx: GatewayContext, exchanges: list[tuple[bytes, bytes]]) -> None:
        super().__init__("replay://golden", EmptyConfig(), ctx)
        self.exchanges = list(exchanges)
        self.position = 0
        self._pending = b""
        self.mismatches: list[str] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def write(self, data: bytes) -> None:
        if self.position >= len(self.exchanges):
            self.mismatches.append(f"extra request {data.hex()}")
            return
        request, reply = self.exchanges[self.position]
        self.position += 1
        if data != request:
            self.mismatches.append(f"request {self.position}: sent {data.hex()}, captured {request.hex()}")
        self._pending = reply

    async def read(self, size: int, timeout: float) -> bytes:
        out, self._pending = self._pending[:size], self._pending[size:]
        return out
