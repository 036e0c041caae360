"""The simulator out of process: one simulated line served as raw RTU over TCP or on a pty.

TCP behaves as a transparent RS-485-to-Ethernet converter (bytes in, bytes out, no MBAP);
the pty is a serial port for tools such as mbpoll. A control channel on stdin drives the
world (press a button, apply an event, read true values), one JSON reply line per command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tty
from typing import Any

from plugins.simulator.bus import Reply, SimBus, interframe_silence_s, sleep_until
from plugins.simulator.world import World

MIN_SILENCE_S = 0.002  # TCP/pty chunks carry no timing: a frame ends after this much quiet


class LineServer:
    """Feeds one bus from a byte stream and sends its replies back, with optional line timing."""

    def __init__(self, bus: SimBus, *, emulate_timing: bool) -> None:
        self.bus = bus
        self.emulate_timing = emulate_timing
        self.lock = asyncio.Lock()  # one master transaction at a time on a half-duplex line

    @property
    def silence_s(self) -> float:
        return max(interframe_silence_s(self.bus.baud), MIN_SILENCE_S)

    def handle_chunk(self, data: bytes, arrived: float) -> list[tuple[float, bytes]]:
        """Replies to what arrived, each with the loop time it is due."""
        replies: list[Reply] = self.bus.feed(data)
        return [(arrived + (r.delay_s if self.emulate_timing else 0.0), r.data) for r in replies]

    def flush(self, arrived: float) -> list[tuple[float, bytes]]:
        return [(arrived + (r.delay_s if self.emulate_timing else 0.0), r.data) for r in self.bus.flush()]


class TcpLine:
    """Listens on ``host:port``; every connection talks to the same line (a converter's port)."""

    def __init__(self, line: LineServer) -> None:
        self.line = line
        self.server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._on_client, host, port)
        bound = self.server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.server is not None:
            await self.server.wait_closed()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: close the connection below
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = self.line
        loop = asyncio.get_running_loop()
        while True:
            # wait without a timer while idle; with one while a frame may still be arriving
            timeout = line.silence_s if line.bus.has_partial_frame else None
            try:
                data = await asyncio.wait_for(reader.read(1024), timeout)
                if not data:
                    return
                async with line.lock:
                    due = line.handle_chunk(data, loop.time())
            except TimeoutError:
                due = line.flush(loop.time())
            for when, frame in due:
                await sleep_until(when)
                writer.write(frame)
                await writer.drain()


class PtyLine:
    """A pseudo-terminal whose slave end is the serial port tools open."""

    def __init__(self, line: LineServer) -> None:
        self.line = line
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.path = os.ttyname(self.slave_fd)
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        asyncio.get_running_loop().add_reader(self.master_fd, self._on_readable)

    def _on_readable(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            data = os.read(self.master_fd, 1024)
        except BlockingIOError:
            return
        except OSError:
            return  # no process holds the slave open right now (EIO): nothing to read
        arrived = loop.time()
        replies = [
            (arrived + (r.delay_s if self.line.emulate_timing else 0.0), r.data)
            for r in self.line.bus.feed(data)
        ]
        self._send(replies)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush_handle = loop.call_later(self.line.silence_s, self._on_silence)

    def _on_silence(self) -> None:
        self._flush_handle = None
        self._send(self.line.flush(asyncio.get_running_loop().time()))

    def _send(self, replies: list[tuple[float, bytes]]) -> None:
        loop = asyncio.get_running_loop()
        for when, frame in replies:
            loop.call_at(when, self._write, frame)

    def _write(self, frame: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master_fd, frame)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.master_fd)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


# ---------------------------------------------------------------------- control channel (stdin)
def control(world: World, line: str | None, command: str) -> dict[str, Any]:
    """Run one control command; the answer is a JSON-able dict.

    ``press ADDRESS [HOLD_S]`` · ``press serial=N [HOLD_S]`` · ``event {JSON}`` ·
    ``state STRING POSITION`` · ``string STRING`` · ``registers ADDRESS`` · ``coils ADDRESS`` ·
    ``stats`` · ``devices``
    """
    words = command.strip().split(maxsplit=1)
    if not words:
        return {"ok": False, "error": "empty command"}
    verb, rest = words[0], words[1] if len(words) > 1 else ""
    try:
        if verb == "press":
            parts = rest.split()
            hold = float(parts[1]) if len(parts) > 1 else 1.0
            if parts and parts[0].startswith("serial="):
                dev = world.press_button(serial=int(parts[0][7:]), hold_s=hold)
            else:
                dev = world.press_button(int(parts[0]) if parts else 247, line=line, hold_s=hold)
            return {"ok": True, "device": dev}
        if verb == "event":
            world.apply(json.loads(rest))
            return {"ok": True}
        if verb == "state":
            s, p = (int(x) for x in rest.split())
            return {"ok": True, "state": world.unit_state(s, p)}
        if verb == "string":
            return {"ok": True, "state": world.string_state(int(rest))}
        if verb == "registers":
            regs = world.registers(int(rest), line)
            return {"ok": True, "input": regs["input"], "holding": regs["holding"]}
        if verb == "coils":
            return {"ok": True, "coils": world.coils(int(rest), line)}
        if verb == "stats":
            return {"ok": True, "stats": world.bus(line).stats.__dict__}
        if verb == "devices":
            return {"ok": True, "devices": [d.describe() for d in world.devices(line)]}
        return {"ok": False, "error": f"unknown command {verb!r}"}
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return {"ok": False, "error": str(e)}


async def read_control(world: World, line: str | None) -> None:
    """Answer control commands from stdin until it closes (then keep serving without it)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        return  # stdin is not a pipe or terminal (e.g. /dev/null as a file): no control channel
    while True:
        raw = await reader.readline()
        if not raw:
            return
        if raw.strip():
            print(json.dumps(control(world, line, raw.decode(errors="replace")), default=str), flush=True)
