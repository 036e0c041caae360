"""Test peers for the Modbus tests: mbpoll (an independent Modbus master) run asynchronously,
a gateway context with a swappable snapshot, and an engine stand-in that answers commands."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.core.clock import RealClock
from gateway.core.commands import Command, CommandQueue, CommandResult
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from gateway.core.model import EMPTY_SNAPSHOT, Snapshot

PEERS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "peers" / "modbus-tools.sh"


def ensure_tools() -> None:
    """Install mbpoll/socat through the peers script if they are missing (as CI does)."""
    if shutil.which("mbpoll") and shutil.which("socat"):
        return
    subprocess.run(["bash", str(PEERS_SCRIPT)], check=True, timeout=300)
    if not shutil.which("mbpoll"):
        pytest.fail("mbpoll is not installed and scripts/peers/modbus-tools.sh could not install it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MbpollResult:
    returncode: int
    stdout: str
    stderr: str

    def values(self) -> dict[int, str]:
        """``[ref]: value`` lines → {ref: text}."""
        return {int(m[1]): m[2].strip() for m in re.finditer(r"^\[(\d+)\]:\s*(\S+)", self.stdout, re.M)}

    @property
    def exception(self) -> str:
        return self.stdout + self.stderr


async def mbpoll(*args: str, timeout: float = 20.0) -> MbpollResult:
    """Run mbpoll once (``-1``) with PDU addressing (``-0``) and return what it printed."""
    proc = await asyncio.create_subprocess_exec(
        "mbpoll",
        "-1",
        "-0",
        "-o",
        "2",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return MbpollResult(proc.returncode or 0, out.decode(), err.decode())


@dataclass
class Site:
    """A context whose snapshot the test sets, and an engine stand-in answering commands."""

    snapshot: Snapshot = EMPTY_SNAPSHOT
    commands: list[Command] = field(default_factory=list)
    answer_ok: bool = True
    ctx: GatewayContext = field(init=False)
    _engine: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.ctx = GatewayContext(
            clock=RealClock(),
            commands=CommandQueue(),
            events=EventBus(),
            config_dir=Path("."),
            data_dir=Path("."),
            snapshot_source=lambda: self.snapshot,
        )

    def start_engine(self) -> None:
        async def run() -> None:
            while True:
                cmd, fut = await self.ctx.commands.get()
                self.commands.append(cmd)
                if not fut.done():
                    fut.set_result(CommandResult(self.answer_ok, "" if self.answer_ok else "refused"))

        self._engine = asyncio.get_running_loop().create_task(run())

    async def stop_engine(self) -> None:
        if self._engine is not None:
            self._engine.cancel()
            await asyncio.gather(self._engine, return_exceptions=True)
