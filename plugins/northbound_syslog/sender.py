"""One collector's connection: a bounded FIFO of formatted messages drained by a task that
connects (UDP, TCP or TLS), writes, notices when the collector goes away, and reconnects.

Nothing here blocks the event loop: the engine's publish only appends to the buffer.
When the buffer is full the oldest message is dropped and counted; when the collector comes
back, the first thing it receives is a message saying how many were dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.core.logging import get_logger
from plugins.northbound_syslog.config import CollectorConfig
from plugins.northbound_syslog.rfc5424 import WARNING, Header, format_notice, octet_counted, truncate

log = get_logger("plugins.northbound_syslog")

_BATCH = 200  # messages written before waiting for the socket to drain
_RECONNECT_FIRST_S = 0.5


class CollectorSender:
    """Buffer and connection of one collector."""

    def __init__(self, cfg: CollectorConfig, header: Header, resolve: Callable[[str], Path]) -> None:
        self.cfg = cfg
        self.header = header
        self.resolve = resolve
        self.name = f"{cfg.protocol}://{cfg.host}:{cfg.effective_port}"
        self.buffer: deque[bytes] = deque()
        self.sent = 0
        self.dropped = 0  # since start
        self.state = "connecting"
        self._unreported = 0  # dropped since the last report to the collector
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while the buffer is empty and everything was written
        self._lost = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._eof_watch: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._outage_logged = False

    # ------------------------------------------------------------------ the engine's side
    def put(self, message: bytes) -> None:
        """Queue one message (never blocks); drops the oldest when the buffer is full."""
        if len(self.buffer) >= self.cfg.buffer_messages:
            self.buffer.popleft()
            self.dropped += 1
            self._unreported += 1
            if self._unreported == 1:
                log.warning(
                    "syslog buffer full, dropping oldest messages",
                    collector=self.name,
                    buffer_messages=self.cfg.buffer_messages,
                )
        self.buffer.append(truncate(message, self.cfg.max_message_bytes))
        self._idle.clear()
        self._wake.set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"syslog {self.name}")

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        """Send what is buffered (for a short while), then close."""
        if self.buffer and self.state == "up":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), flush_timeout_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    # ------------------------------------------------------------------ connection loop
    async def _run(self) -> None:
        backoff = _RECONNECT_FIRST_S
        while True:
            try:
                await self._connect()
                backoff = _RECONNECT_FIRST_S
                self.state = "up"
                if self._outage_logged:
                    log.info("syslog collector reachable again", collector=self.name)
                    self._outage_logged = False
                self._report_drops()
                await self._pump()
            except (OSError, ssl.SSLError, ConnectionError, TimeoutError) as e:
                self.state = "reconnecting"
                if not self._outage_logged:  # once per outage, not once per attempt
                    log.warning(
                        "syslog collector unreachable, buffering",
                        collector=self.name,
                        error=str(e) or type(e).__name__,
                        buffered=len(self.buffer),
                    )
                    self._outage_logged = True
            await self._close()
            # reconnect pacing is about the network, so it is real time, not the simulated clock
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.cfg.reconnect_max_s)

    def _report_drops(self) -> None:
        if not self._unreported:
            return
        n, self._unreported = self._unreported, 0
        log.warning(
            "syslog messages were dropped while the collector was unreachable",
            collector=self.name,
            dropped=n,
            dropped_total=self.dropped,
        )
        self.buffer.appendleft(
            truncate(
                format_notice(
                    f"{n} messages dropped: the collector was unreachable and the buffer of "
                    f"{self.cfg.buffer_messages} messages was full",
                    self.header,
                    WARNING,
                    {
                        "dropped": n,
                        "dropped_total": self.dropped,
                        "buffer_messages": self.cfg.buffer_messages,
                    },
                    time.time(),
                ),
                self.cfg.max_message_bytes,
            )
        )

    async def _connect(self) -> None:
        cfg, port = self.cfg, self.cfg.effective_port
        self._lost.clear()
        if cfg.protocol == "udp":
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(cfg.host, port)
            )
            return
        tls = self._tls_context() if cfg.protocol == "tls" else None
        server_name = (cfg.tls.server_name or cfg.host) if tls else None
        reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(cfg.host, port, ssl=tls, server_hostname=server_name), 10.0
        )
        self._eof_watch = asyncio.create_task(self._watch_eof(reader))

    def _tls_context(self) -> ssl.SSLContext:
        t = self.cfg.tls
        ctx = ssl.create_default_context(cafile=str(self.resolve(t.ca_file)) if t.ca_file else None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if not t.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if t.cert_file:
            ctx.load_cert_chain(self.resolve(t.cert_file), self.resolve(t.key_file) if t.key_file else None)
        return ctx

    async def _watch_eof(self, reader: asyncio.StreamReader) -> None:
        """Collectors never speak; any end of the stream means the collector went away."""
        with contextlib.suppress(OSError, ssl.SSLError, ConnectionError):
            while await reader.read(4096):
                pass
        self._lost.set()
        self._wake.set()

    async def _pump(self) -> None:
        while True:
            while self.buffer:
                if self._lost.is_set():
                    raise ConnectionError("collector closed the connection")
                batch = [self.buffer[i] for i in range(min(_BATCH, len(self.buffer)))]
                await self._write(batch)
                for _ in batch:  # only what reached the socket leaves the buffer
                    self.buffer.popleft()
                self.sent += len(batch)
            self._idle.set()
            self._wake.clear()
            if self._lost.is_set():
                raise ConnectionError("collector closed the connection")
            await self._wake.wait()

    async def _write(self, batch: list[bytes]) -> None:
        if self._udp is not None:
            for m in batch:
                self._udp.sendto(m)
            return
        assert self._writer is not None
        self._writer.write(b"".join(octet_counted(m) for m in batch))
        await asyncio.wait_for(self._writer.drain(), 30.0)

    async def _close(self) -> None:
        if self._eof_watch is not None:
            self._eof_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._eof_watch
            self._eof_watch = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    def stats(self) -> dict[str, Any]:
        return {
            "collector": self.name,
            "state": self.state,
            "sent": self.sent,
            "buffered": len(self.buffer),
            "dropped": self.dropped,
        }
