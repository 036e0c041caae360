"""Alarm transitions arrive at net-snmp's snmptrapd as v2c traps, v3 traps and v3 informs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.core.events import Event, EventBus
from tests.northbound_snmp.conftest import AUTH_KEY, PRIV_KEY, USER, base_config, require

ENGINE_ID = base_config()["engine_id"]
TRAP_COMMUNITY = "t3st-trap-community"
ROOT = "1.3.6.1.4.1.32473"


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
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()


@pytest.fixture
async def trapd(tmp_path: Path) -> AsyncIterator[TrapReceiver]:
    rx = TrapReceiver(tmp_path)
    await rx.start()
    yield rx
    await rx.stop()


def alarm(state: str, alarm_id: int = 7) -> Event:
    return Event(
        time=time.time(),
        kind="alarm",
        code="unit_voltage_high",
        level="alarm",
        source="strings[0].units[3]",
        state=state,
        message="String A unit 4: voltage high",
        data={"alarm_id": alarm_id, "value": 14.93},
    )


async def test_v2c_and_v3_traps_and_v3_informs_reach_snmptrapd(start_agent, trapd: TrapReceiver) -> None:
    bus = EventBus()
    managers = [
        {"host": "127.0.0.1", "port": trapd.port, "version": "v2c", "community": TRAP_COMMUNITY},
        {"host": "127.0.0.1", "port": trapd.port, "version": "v3", "user": USER},
        {"host": "127.0.0.1", "port": trapd.port, "version": "v3", "user": USER, "notify_type": "inform"},
    ]
    svc = await start_agent(events=bus, managers=managers)
    bus.publish(alarm("raised"))
    await trapd.wait_for(lambda: len(trapd.notifications) >= 3, 15)
    bus.publish(Event(time=time.time(), kind="command", code="ack", message="not an alarm"))
    bus.publish(alarm("cleared"))
    await trapd.wait_for(lambda: len(trapd.notifications) >= 6, 15)
    await asyncio.sleep(0.5)  # nothing is sent twice
    notes = trapd.notifications
    assert len(notes) == 6, "\n".join(notes)

    raised = [n for n in notes if f"{ROOT}.0.1\t" in n + "\t"]
    cleared = [n for n in notes if f"{ROOT}.0.2\t" in n + "\t"]
    assert len(raised) == 3
    assert len(cleared) == 3
    for group in (raised, cleared):
        assert sum("SNMP v2c" in n and TRAP_COMMUNITY in n for n in group) == 1
        assert sum("TRAP2, SNMP v3" in n and USER in n for n in group) == 1
        assert sum("INFORM, SNMP v3" in n and USER in n for n in group) == 1
    for n in notes:
        assert f'.{ROOT}.1.4.1.2.7 = STRING: "unit_voltage_high"' in n
        assert f'.{ROOT}.1.4.1.4.7 = STRING: "strings[0].units[3]"' in n
        assert f'.{ROOT}.1.4.1.9.7 = STRING: "14.93"' in n
        assert f".{ROOT}.1.4.1.3.7 = INTEGER: 3" in n  # level alarm
    assert all(f".{ROOT}.1.4.1.10.7 = INTEGER: 1" in n for n in raised)
    assert all(f".{ROOT}.1.4.1.10.7 = INTEGER: 2" in n for n in cleared)
    assert svc.notifier.failed == 0


async def test_the_trap_community_does_not_open_read_access(start_agent, trapd: TrapReceiver) -> None:
    from tests.northbound_snmp.conftest import net_snmp

    svc = await start_agent(
        managers=[{"host": "127.0.0.1", "port": trapd.port, "version": "v2c", "community": TRAP_COMMUNITY}]
    )
    rc, out, _err = await net_snmp(
        "snmpget",
        "-v2c",
        "-c",
        TRAP_COMMUNITY,
        "-t",
        "0.5",
        "-r",
        "0",
        f"udp:127.0.0.1:{svc.address[1]}",
        "1.3.6.1.2.1.1.1.0",
    )
    assert rc != 0
    assert "STRING" not in out
