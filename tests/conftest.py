"""Suite-wide fixtures: no leftovers, free ports, the cellgate command, a plugin set for tests."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# tests never load whatever third-party plugins happen to be installed (datasette's habit)
os.environ.setdefault("CELLGATE_PLUGINS", "builtin")


@pytest.fixture
def cellgate_bin() -> str:
    """The installed ``cellgate`` console script of this venv."""
    return str(VENV_BIN / "cellgate")


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _no_leftover_threads():
    """Fail a test that leaves threads running (pymodbus's system_health_check habit)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        left = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(("asyncio_", "ThreadPoolExecutor"))
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"test left threads running: {[t.name for t in left]}"
