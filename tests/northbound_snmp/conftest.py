"""Fixtures for the SNMP agent tests: a started agent on a free port, net-snmp command runner."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from plugins.northbound_snmp.agent import SnmpService
from plugins.northbound_snmp.config import SnmpConfig
from tests.northbound_snmp.synthetic import SnapshotHolder, context, snapshot
from tests.processes import stop_async

HERE = Path(__file__).resolve().parent
MIB_DIRS = f"{HERE.parents[1] / 'plugins/northbound_snmp/MIB'}:{HERE / 'mibs'}"

COMMUNITY = "t3st-community"
USER, AUTH_KEY, PRIV_KEY = "nms-reader", "auth-pass-123", "priv-pass-456"
V3 = ["-v3", "-l", "authPriv", "-u", USER, "-a", "SHA-256", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY]
V2C = ["-v2c", "-c", COMMUNITY]
ENGINE_ID = "80007ed9056365696c6774657374"
TRAP_COMMUNITY = "t3st-trap-community"


def require(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin")
    assert path, f"{tool} is missing: run scripts/peers/snmp-syslog.sh"
    return path


def base_config(**overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "port": 0,
        "engine_id": ENGINE_ID,
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


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TrapReceiver:
    """snmptrapd, unprivileged, on a loopback port, printing one line per notification."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_udp_port()
        self.log = workdir / "snmptrapd.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        conf = self.workdir / "snmptrapd.conf"
        conf.write_text(
            f"authCommunity log {TRAP_COMMUNITY}\n"
            # v3 traps: the agent is authoritative, so the user is keyed to the agent's engine id
            f"createUser -e 0x{ENGINE_ID} {USER} SHA-256 {AUTH_KEY} AES {PRIV_KEY}\n"
            # v3 informs: snmptrapd is authoritative, the same user under its own engine id
            f"createUser {USER} SHA-256 {AUTH_KEY} AES {PRIV_KEY}\n"
            f"authUser log {USER} authPriv\n"
            "format2 NOTIFICATION %P | %v\\n\n"
            "doNotRetainNotificationLogs yes\n"
        )
        env = {
            **os.environ,
            "MIBS": "",
            "SNMP_PERSISTENT_DIR": str(self.workdir / "persist"),
            "SNMPCONFPATH": str(self.workdir),
        }
        self.proc = await asyncio.create_subprocess_exec(
            # a log file, not stdout: snmptrapd block-buffers a pipe but flushes its log file
            require("snmptrapd"),
            "-f",
            "-Lf",
            str(self.log),
            "-On",
            "-C",
            "-c",
            str(conf),
            f"udp:127.0.0.1:{self.port}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        await self.wait_for(lambda: any("NET-SNMP version" in ln for ln in self.lines), 10)

    @property
    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    @property
    def notifications(self) -> list[str]:
        return [ln for ln in self.lines if ln.startswith("NOTIFICATION")]

    async def wait_for(self, cond, timeout: float) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError("snmptrapd output:\n" + "\n".join(self.lines))
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_async(self.proc, 5)


@pytest.fixture
async def trapd(tmp_path: Path) -> AsyncIterator[TrapReceiver]:
    rx = TrapReceiver(tmp_path)
    await rx.start()
    yield rx
    await rx.stop()
