"""Fixtures of the simulator tests: ``cellgate simulate`` as a subprocess, with its control channel."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import processes

ROOT = Path(__file__).resolve().parents[2]


def simulate_command() -> list[str]:
    """``cellgate simulate`` from this venv (falls back to the module while the CLI is missing)."""
    exe = Path(sys.executable).parent / "cellgate"
    return [str(exe), "simulate"] if exe.exists() else [sys.executable, "-m", "plugins.simulator"]


class SimProcess:
    """A running ``cellgate simulate``: where it listens, and its stdin control channel."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [*simulate_command(), *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._stderr: str | None = None  # read once it has ended: the pipe is closed after the stop
        self.where = self._readline(20.0)

    @property
    def port(self) -> int:
        return int(self.where.rsplit(":", 1)[1])

    def _readline(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.stop()
                raise AssertionError(f"simulator said nothing in {timeout} s; stderr: {self.stderr()}")
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"simulator exited: {self.stderr()}")
        return line.strip()

    def control(self, command: str) -> dict[str, Any]:
        """One control command (``press 5``, ``event {...}``, ``state 0 1``); its JSON answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self._readline(10.0))
        assert answer["ok"], answer
        return answer

    def stderr(self) -> str:
        """What the simulator wrote to stderr, once it has ended ("" while it runs)."""
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        if self._stderr is None:
            self._stderr = self.proc.stderr.read()
        return self._stderr

    def stop(self) -> int | None:
        """SIGTERM, SIGKILL after 10 s; its exit code. ``stderr()`` still answers afterwards."""
        processes.stop(self.proc, 10, close_pipes=False)
        self.stderr()  # read while the pipe is open: failure messages quote it after the stop
        return processes.stop(self.proc)  # it has ended: this only closes its pipes


@pytest.fixture
def simulate() -> Iterator[Any]:
    """``simulate(*args)`` starts ``cellgate simulate ARGS``; every one is stopped after the test."""
    started: list[SimProcess] = []

    def start(*args: str) -> SimProcess:
        sim = SimProcess(list(args))
        started.append(sim)
        return sim

    yield start
    for sim in started:
        assert sim.stop() in (0, -15), f"simulator ended badly: {sim.stderr()}"
