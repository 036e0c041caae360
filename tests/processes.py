"""Stopping the child processes tests start (gateways, simulators, net-snmp, rsyslog, socat...):
politely first, by force after a timeout, so no test leaves a process or an open pipe behind."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0, *, close_pipes: bool = True) -> int | None:
    """SIGTERM ``proc`` if it still runs, SIGKILL it after ``timeout`` s; its exit code.

    ``close_pipes=False`` leaves its pipes open for a caller that reads what it wrote after the
    stop (stderr for a failure message); that caller closes them.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if close_pipes:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    return proc.returncode


async def stop_async(proc: asyncio.subprocess.Process, timeout: float = 10.0) -> int | None:
    """:func:`stop` for an asyncio process: SIGTERM, SIGKILL after ``timeout`` s; its exit code.

    Only stdin needs closing here: asyncio closes a read pipe itself once it reads its end of file.
    """
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    if proc.stdin is not None:
        proc.stdin.close()
    return proc.returncode
