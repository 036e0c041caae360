"""On the running gateway (simulator), what SNMP v3 reads equals what the REST API serves for
the same snapshot version: unit voltages, temperatures, SOC, Ri and the UPS-MIB battery group."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import yaml

from tests.northbound_snmp.conftest import (
    AUTH_KEY,
    PRIV_KEY,
    USER,
    V3,
    free_udp_port,
    net_snmp,
    parse_numeric,
)
from tests.processes import stop_async

UNIT = "1.3.6.1.4.1.32473.1.3.1"
VERSION = "1.3.6.1.4.1.32473.1.1.2.0"
UPS = "1.3.6.1.2.1.33.1.2"
UNITS = 12


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scaled(x: float | None, factor: float) -> str | None:
    return None if x is None else str(round(x * factor))


async def test_snmp_values_equal_the_rest_api(tmp_path: Path, cellgate_bin: str) -> None:
    snmp_port, web_port = free_udp_port(), free_tcp_port()
    cfg = tmp_path / "cellgate.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "site": {"name": "REST site"},
                "data_dir": "var",
                "lines": [{"name": "bus1", "url": "sim://rest"}],
                "strings": [{"name": "String A", "units": {"model": "C20", "count": UNITS, "bus": "bus1"}}],
                "authenticators": [{"type": "local"}],
                "services": [
                    {"type": "web", "host": "127.0.0.1", "port": web_port},
                    {
                        "type": "snmp",
                        "port": snmp_port,
                        "users": [{"name": USER, "auth_key": AUTH_KEY, "priv_key": PRIV_KEY}],
                    },
                ],
            }
        )
    )
    token = (
        subprocess.run(
            [cellgate_bin, "token", "create", "snmp-test", "-c", str(cfg)],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[0]
    )
    log = (tmp_path / "gateway.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        cellgate_bin, "run", "-c", str(cfg), stdout=log, stderr=log, env=os.environ.copy()
    )
    oids = [
        VERSION,
        *(f"{UNIT}.{col}.{n}" for n in range(1, UNITS + 1) for col in (5, 6, 7, 9)),
        *(f"{UPS}.{i}.0" for i in (4, 5, 6)),
    ]
    try:
        # the gateway's own self-signed certificate: this test checks values, not TLS
        async with httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{web_port}",
            verify=False,
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ) as web:
            deadline = time.monotonic() + 60
            while True:
                assert time.monotonic() < deadline, (tmp_path / "gateway.log").read_text()[-3000:]
                try:
                    rest = (await web.get("/api/v1/overview")).json()["site"]
                except (httpx.HTTPError, KeyError, ValueError):
                    await asyncio.sleep(0.5)
                    continue
                rc, out, _err = await net_snmp("snmpget", *V3, "-On", f"udp:127.0.0.1:{snmp_port}", *oids)
                got = parse_numeric(out) if rc == 0 else {}
                units = rest["strings"][0]["units"] if rest["strings"] else []
                # compare only a snapshot both read, with every unit measured
                if got.get(VERSION) == str(rest["version"]) and units and all(u["voltage_v"] for u in units):
                    break
                await asyncio.sleep(0.2)
    finally:
        await stop_async(proc, 20)
        log.close()

    string = rest["strings"][0]
    assert len(units) == UNITS
    for n, u in enumerate(units, start=1):
        assert got[f"{UNIT}.5.{n}"] == scaled(u["voltage_v"], 1000)
        assert got[f"{UNIT}.6.{n}"] == scaled(u["temperature_c"], 10)
        if u["ri_ohm"] is not None:
            assert got[f"{UNIT}.7.{n}"] == scaled(u["ri_ohm"], 1e6)
        if u["soc"] is not None:
            assert got[f"{UNIT}.9.{n}"] == scaled(u["soc"], 1000)
    assert got[f"{UPS}.5.0"] == scaled(string["voltage_v"], 10)
    if string["soc"] is not None:
        assert got[f"{UPS}.4.0"] == scaled(string["soc"], 100)
    if string["current_a"] is not None:
        assert got[f"{UPS}.6.0"] == scaled(string["current_a"], 10)
