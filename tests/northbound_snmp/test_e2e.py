"""The whole gateway on the simulator: a dead monitor raises a comm-loss alarm, its replacement
clears it, and snmptrapd receives both as v2c and v3 notifications; meanwhile the agent shows
the unit as commLost."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import yaml

from tests.northbound_snmp.conftest import (
    AUTH_KEY,
    COMMUNITY,
    ENGINE_ID,
    PRIV_KEY,
    TRAP_COMMUNITY,
    USER,
    V2C,
    TrapReceiver,
    free_udp_port,
    net_snmp,
    parse_numeric,
)
from tests.processes import stop_async

UNIT = "1.3.6.1.4.1.32473.1.3.1"


def comm_lost(notes: list[str], trap: str) -> list[str]:
    """Notifications of one kind (raised .0.1 / cleared .0.2) about the unit_comm_lost alarm."""
    return [n for n in notes if f"OID: .1.3.6.1.4.1.32473.0.{trap}\t" in n and '"unit_comm_lost"' in n]


async def test_simulated_alarm_reaches_snmptrapd_raised_and_cleared(
    tmp_path: Path, trapd: TrapReceiver, cellgate_bin: str
) -> None:
    agent_port = free_udp_port()
    config = {
        "site": {"name": "E2E site"},
        "data_dir": "var",
        "lines": [{"name": "bus1", "url": "sim://e2e", "options": {"scenario": "dead-monitor"}}],
        "strings": [
            {
                "name": "String A",
                "chemistry": "vrla",
                "units": {"model": "C20", "count": 24, "bus": "bus1", "first_address": 1},
            }
        ],
        "services": [
            {
                "type": "snmp",
                "port": agent_port,
                "engine_id": ENGINE_ID,
                "v2c": {"enabled": True, "community": COMMUNITY},
                "users": [{"name": USER, "auth_key": {"env": "E2E_AUTH"}, "priv_key": {"env": "E2E_PRIV"}}],
                "managers": [
                    {"host": "127.0.0.1", "port": trapd.port, "version": "v2c", "community": TRAP_COMMUNITY},
                    {"host": "127.0.0.1", "port": trapd.port, "version": "v3", "user": USER},
                ],
            }
        ],
    }
    cfg = tmp_path / "cellgate.yaml"
    cfg.write_text(yaml.safe_dump(config))
    log = (tmp_path / "gateway.log").open("wb")
    # dead-monitor: address 3 falls silent at 30 s and is replaced at 600 s (simulated); at
    # speed 60 that is 0.5 s and 10 s of real time
    proc = await asyncio.create_subprocess_exec(
        cellgate_bin,
        "run",
        "-c",
        str(cfg),
        "--speed",
        "60",
        stdout=log,
        stderr=log,
        env={**os.environ, "E2E_AUTH": AUTH_KEY, "E2E_PRIV": PRIV_KEY},
    )
    try:
        await trapd.wait_for(lambda: len(comm_lost(trapd.notifications, "1")) >= 2, 30)
        rc, out, err = await net_snmp(
            "snmpget", *V2C, "-On", f"udp:127.0.0.1:{agent_port}", f"{UNIT}.12.3", f"{UNIT}.12.4"
        )
        assert rc == 0, err
        status = parse_numeric(out)
        assert status[f"{UNIT}.12.3"] in ("4", "5")  # commLost (or stale on the way there)
        assert status[f"{UNIT}.12.4"] == "1"

        await trapd.wait_for(lambda: len(comm_lost(trapd.notifications, "2")) >= 2, 40)
        raised, cleared = comm_lost(trapd.notifications, "1"), comm_lost(trapd.notifications, "2")
        for group in (raised, cleared):
            assert sum("SNMP v2c" in n for n in group) == 1
            assert sum("SNMP v3" in n and USER in n for n in group) == 1
            assert all('"strings[0].units[2]"' in n for n in group)  # address 3 = position 3
    finally:
        await stop_async(proc, 20)
        log.close()
    assert proc.returncode == 0, (tmp_path / "gateway.log").read_text()[-3000:]
