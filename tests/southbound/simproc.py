"""The simulator (``python -m plugins.simulator``) in its own process, on TCP or a pty, for one test."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

from tests.processes import stop


@contextlib.contextmanager
def simulator(*args: str) -> Iterator[str]:
    """Run the simulator with ``args`` (``--listen tcp://127.0.0.1:0`` or ``--pty``); yields its address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "plugins.simulator", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        where = proc.stdout.readline().strip()
        if not where:
            raise RuntimeError(f"simulator did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield where
    finally:
        stop(proc, 10)
