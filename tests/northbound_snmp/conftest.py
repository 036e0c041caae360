"""Fixtures for the SNMP agent tests: a started agent on a free port, net-snmp command runner."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from plugins.northbound_snmp.agent import SnmpService
from plugins.northbound_snmp.config import SnmpConfig
from tests.northbound_snmp.synthetic import SnapshotHolder, context, snapshot

HERE = Path(__file__).resolve().parent
MIB_DIRS = f"{HERE.parents[1] / 'plugins/northbound_snmp/MIB'}:{HERE / 'mibs'}"

COMMUNITY = "t3st-community"
USER, AUTH_KEY, PRIV_KEY = "nms-reader", "auth-pass-123", "priv-pass-456"
V3 = ["-v3", "-l", "authPriv", "-u", USER, "-a", "SHA-256", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY]
V2C = ["-v2c", "-c", COMMUNITY]


def require(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin")
    assert path, f"{tool} is missing: run scripts/peers/snmp-syslog.sh"
    return path


def base_config(**overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "port": 0,
        "engine_id": "80007ed9056365696c6774657374",
        "v2c": {"enabled": True, "community": COMMUNITY},
        "users": [{"name": USER, "auth_key": AUTH_KEY, "priv_key": PRIV_KEY}],
    }
    cfg.update(overrides)
    return cfg


async def net_snmp(*args: str, timeout: float = 20.0) -> tuple[int, str, str]:
    """Run a net-snmp tool with numeric OIDs and no system MIBs; returns (rc, stdout, stderr)."""
    env = {**os.environ, "MIBS": "", "MIBDIRS": MIB_DIRS, "SNMPCONFPATH": "/nonexistent"}
    proc = await asyncio.create_subprocess_exec(
        require(args[0]), *args[1:], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(), err.decode()


def parse_numeric(out: str) -> dict[str, str]:
    """``.1.3.6... = TYPE: value`` lines (``-On -Oe -Oq``-free default format) -> {oid: value}."""
    result = {}
    for line in out.splitlines():
        if " = " not in line:
            continue
        oid, rest = line.split(" = ", 1)
        value = rest.split(": ", 1)[1] if ": " in rest else rest
        result[oid.strip().lstrip(".")] = value.strip().strip('"')
    return result


StartAgent = Callable[..., Awaitable[SnmpService]]


@pytest.fixture
async def start_agent(tmp_path: Path) -> AsyncIterator[StartAgent]:
    """``await start_agent(snap_or_holder, **config)`` -> a started SnmpService; stopped after the test."""
    started: list[SnmpService] = []

    async def start(holder: SnapshotHolder | None = None, events: Any = None, **cfg: Any) -> SnmpService:
        holder = holder or SnapshotHolder(snapshot())
        svc = SnmpService(SnmpConfig.model_validate(base_config(**cfg)), context(holder, tmp_path, events))
        await svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in reversed(started):
        await svc.stop()
