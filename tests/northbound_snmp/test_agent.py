"""The SNMP agent read by net-snmp's own tools: values equal the snapshot, security holds."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from gateway.core.model import AlarmView, StringMode
from plugins.northbound_snmp.config import SnmpConfig
from tests.northbound_snmp.conftest import USER, V2C, V3, base_config, net_snmp, parse_numeric
from tests.northbound_snmp.synthetic import SnapshotHolder, snapshot

ROOT = "1.3.6.1.4.1.32473"
UNIT = f"{ROOT}.1.3.1"  # cgUnitEntry
UPS_BATTERY = "1.3.6.1.2.1.33.1.2"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
QUICK = ("-t", "0.5", "-r", "0")  # where no answer is the right answer


def target(svc) -> str:  # type: ignore[no-untyped-def]
    return f"udp:127.0.0.1:{svc.address[1]}"


def expected_units(snap) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What the unit table must show, computed here from the snapshot (not with the agent's code)."""
    exp = {}
    for n, u in enumerate(snap.units, start=1):
        exp[f"{UNIT}.3.{n}"] = str(u.position)
        exp[f"{UNIT}.4.{n}"] = u.model
        exp[f"{UNIT}.5.{n}"] = str(round(u.voltage_v * 1000))
        exp[f"{UNIT}.6.{n}"] = str(round(u.temperature_c * 10))
        exp[f"{UNIT}.7.{n}"] = str(round(u.ri_ohm * 1e6))
        exp[f"{UNIT}.9.{n}"] = str(round(u.soc * 1000))
        exp[f"{UNIT}.10.{n}"] = str(round(u.soh * 1000))
    return exp


async def test_v2c_get_and_walk_of_the_unit_table_equal_the_snapshot(start_agent) -> None:
    snap = snapshot(t=time.time())
    svc = await start_agent(SnapshotHolder(snap))
    rc, out, err = await net_snmp("snmpwalk", *V2C, "-On", target(svc), f"{ROOT}.1.3")
    assert rc == 0, err
    got = parse_numeric(out)
    exp = expected_units(snap)
    assert {k: got.get(k) for k in exp} == exp
    assert len([k for k in got if k.startswith(f"{UNIT}.5.")]) == 48  # one voltage per unit

    rc, out, err = await net_snmp(
        "snmpget", *V2C, "-On", target(svc), f"{UNIT}.5.25", f"{UNIT}.2.25", f"{UNIT}.3.25"
    )
    assert rc == 0, err
    got = parse_numeric(out)
    second_string_first_unit = snap.strings[1].units[0]
    assert got[f"{UNIT}.5.25"] == str(round(second_string_first_unit.voltage_v * 1000))
    assert got[f"{UNIT}.2.25"] == "2"
    assert got[f"{UNIT}.3.25"] == "1"


async def test_v3_authpriv_bulkwalk_reads_what_v2c_walk_reads(start_agent) -> None:
    snap = snapshot(t=time.time())
    svc = await start_agent(SnapshotHolder(snap))
    rc, bulk, err = await net_snmp("snmpbulkwalk", *V3, "-On", "-Cr30", target(svc), f"{ROOT}.1")
    assert rc == 0, err
    rc, walk, err = await net_snmp("snmpwalk", *V2C, "-On", target(svc), f"{ROOT}.1")
    assert rc == 0, err
    bulk_values, walk_values = parse_numeric(bulk), parse_numeric(walk)
    for volatile in (f"{ROOT}.1.1.3.0",):  # snapshot age may tick between the two walks
        bulk_values.pop(volatile), walk_values.pop(volatile)
    assert bulk_values == walk_values
    exp = expected_units(snap)
    assert {k: bulk_values.get(k) for k in exp} == exp
    assert bulk_values[f"{ROOT}.1.1.1.0"] == "Test site"
    assert bulk_values[f"{ROOT}.1.1.7.0"] == "48"


async def test_ups_mib_battery_group_describes_the_configured_string(start_agent) -> None:
    snap = snapshot(mode=StringMode.DISCHARGE, t=time.time())
    svc = await start_agent(SnapshotHolder(snap), ups_string="String B")
    rc, out, err = await net_snmp("snmpwalk", *V3, "-On", target(svc), UPS_BATTERY)
    assert rc == 0, err
    got = parse_numeric(out)
    s = snap.strings[1]
    temps = [u.temperature_c for u in s.units]
    assert got[f"{UPS_BATTERY}.1.0"] == "3"  # batteryLow: SOC 25 % < 30 %
    assert int(got[f"{UPS_BATTERY}.2.0"]) >= 0  # seconds on battery
    assert got[f"{UPS_BATTERY}.3.0"] == "30"  # 1830 s -> 30 min
    assert got[f"{UPS_BATTERY}.4.0"] == "25"
    assert got[f"{UPS_BATTERY}.5.0"] == str(round(s.voltage_v * 10))
    assert got[f"{UPS_BATTERY}.6.0"] == "-425"  # discharging at 42.5 A, 0.1 A units
    assert got[f"{UPS_BATTERY}.7.0"] == str(round(sum(temps) / len(temps)))


async def test_stale_unit_is_flagged_in_the_status_column(start_agent) -> None:
    snap = snapshot(t=time.time(), stale_units=frozenset({(0, 3)}))
    svc = await start_agent(SnapshotHolder(snap))
    rc, out, err = await net_snmp(
        "snmpget", *V2C, "-On", target(svc), f"{UNIT}.12.3", f"{UNIT}.12.4", f"{UNIT}.5.3"
    )
    assert rc == 0, err
    got = parse_numeric(out)
    assert got[f"{UNIT}.12.3"] == "5"  # stale
    assert got[f"{UNIT}.12.4"] == "1"  # ok
    assert got[f"{UNIT}.5.3"] == str(round(snap.strings[0].units[2].voltage_v * 1000))


async def test_a_new_snapshot_version_is_served_and_built_once(start_agent) -> None:
    holder = SnapshotHolder(snapshot(version=1, t=time.time()))
    svc = await start_agent(holder)
    for _ in range(3):
        rc, out, _ = await net_snmp("snmpget", *V2C, "-On", target(svc), f"{ROOT}.1.1.2.0")
        assert parse_numeric(out)[f"{ROOT}.1.1.2.0"] == "1"
    holder.current = snapshot(
        version=2,
        t=time.time(),
        alarms=(
            AlarmView(
                id=7,
                code="unit_voltage_high",
                level="alarm",
                source="strings[0].units[3]",
                message="Unit 4 voltage high",
                raised_at=time.time(),
                value=14.9,
            ),
        ),
    )
    rc, out, err = await net_snmp(
        "snmpget",
        *V2C,
        "-On",
        target(svc),
        f"{ROOT}.1.1.2.0",
        f"{ROOT}.1.4.1.2.7",
        f"{ROOT}.1.4.1.9.7",
        f"{ROOT}.1.1.8.0",
    )
    assert rc == 0, err
    got = parse_numeric(out)
    assert got[f"{ROOT}.1.1.2.0"] == "2"
    assert got[f"{ROOT}.1.4.1.2.7"] == "unit_voltage_high"
    assert got[f"{ROOT}.1.4.1.9.7"] == "14.9"
    assert got[f"{ROOT}.1.1.8.0"] == "1"
    assert svc.instrum.rebuilds == 2


async def test_wrong_v3_credentials_fail(start_agent) -> None:
    svc = await start_agent()
    wrong_auth = [*V3]
    wrong_auth[wrong_auth.index("-A") + 1] = "not-the-key"
    rc, out, err = await net_snmp("snmpget", *wrong_auth, *QUICK, target(svc), SYS_DESCR)
    assert rc != 0
    assert "STRING" not in out
    assert "Authentication failure" in err or "authorizationError" in err or "Timeout" in err

    wrong_user = [*V3]
    wrong_user[wrong_user.index("-u") + 1] = "mallory"
    rc, out, err = await net_snmp("snmpget", *wrong_user, *QUICK, target(svc), SYS_DESCR)
    assert rc != 0
    assert "Unknown user name" in err

    wrong_priv = [*V3]
    wrong_priv[wrong_priv.index("-X") + 1] = "not-the-priv-key"
    rc, out, err = await net_snmp("snmpget", *wrong_priv, *QUICK, target(svc), SYS_DESCR)
    assert rc != 0
    assert "STRING" not in out

    # authNoPriv is refused: the users are authPriv only
    no_priv = ["-v3", "-l", "authNoPriv", "-u", USER, "-a", "SHA-256", "-A", V3[V3.index("-A") + 1]]
    rc, out, err = await net_snmp("snmpget", *no_priv, *QUICK, target(svc), SYS_DESCR)
    assert "STRING" not in out


async def test_v2c_is_refused_when_disabled(start_agent) -> None:
    svc = await start_agent(v2c={"enabled": False})
    rc, out, err = await net_snmp("snmpget", *V2C, *QUICK, target(svc), SYS_DESCR)
    assert rc != 0
    assert "Timeout" in err
    assert "STRING" not in out
    rc, out, err = await net_snmp("snmpget", *V3, target(svc), "1.3.6.1.2.1.1.1.0")
    assert rc == 0
    assert "cellgate" in out


def test_v2c_is_off_by_default_and_an_agent_for_nobody_is_refused() -> None:
    assert SnmpConfig.model_validate(base_config(v2c={})).v2c.enabled is False
    with pytest.raises(ValueError, match="answer nobody"):
        SnmpConfig.model_validate({"port": 0})
    with pytest.raises(ValueError, match="no community"):
        SnmpConfig.model_validate({"v2c": {"enabled": True}})
    with pytest.raises(ValueError, match="at least 8"):
        SnmpConfig.model_validate({"users": [{"name": "u", "auth_key": "short", "priv_key": "12345678"}]})


async def test_vacm_user_sees_only_its_views(start_agent) -> None:
    svc = await start_agent(
        users=[
            {
                "name": USER,
                "auth_key": V3[V3.index("-A") + 1],
                "priv_key": V3[V3.index("-X") + 1],
                "views": ["ups"],
            }
        ]
    )
    rc, out, err = await net_snmp("snmpget", *V3, "-On", target(svc), f"{UPS_BATTERY}.1.0", f"{ROOT}.1.1.1.0")
    assert rc == 0, err
    got = parse_numeric(out)
    assert got[f"{UPS_BATTERY}.1.0"] == "2"
    assert "No Such Object" in got[f"{ROOT}.1.1.1.0"]
    rc, out, err = await net_snmp("snmpbulkwalk", *V3, "-On", target(svc), "1.3.6.1")
    assert rc == 0, err
    oids = list(parse_numeric(out))
    assert oids
    assert all(o.startswith("1.3.6.1.2.1.33.") for o in oids)


async def test_writes_are_refused(start_agent) -> None:
    svc = await start_agent()
    rc, out, err = await net_snmp("snmpset", *V3, target(svc), f"{ROOT}.1.1.1.0", "s", "pwned")
    assert rc != 0
    assert "notWritable" in err or "noAccess" in err or "Not Writable" in err
    rc, out, _ = await net_snmp("snmpget", *V3, "-On", target(svc), f"{ROOT}.1.1.1.0")
    assert "Test site" in out


async def test_a_port_in_use_is_a_clear_error_at_start(start_agent) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        with pytest.raises(RuntimeError, match=r"cannot listen on 127\.0\.0\.1"):
            await start_agent(port=s.getsockname()[1])


async def test_repeated_v2c_reads_come_from_the_response_cache_but_uptime_does_not(start_agent) -> None:
    svc = await start_agent()
    answers = []
    for _ in range(3):
        rc, out, err = await net_snmp("snmpget", *V2C, "-On", target(svc), f"{UNIT}.5.7", f"{UNIT}.12.7")
        assert rc == 0, err
        answers.append(parse_numeric(out))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][f"{UNIT}.12.7"] == "1"
    assert svc.cache.hits == 2  # net-snmp changes the request-id, the rest is the same request

    ticks = []
    for _ in range(2):
        rc, out, err = await net_snmp("snmpget", *V2C, "-On", target(svc), "1.3.6.1.2.1.1.3.0")
        assert rc == 0, err
        ticks.append(int(out.split("(")[1].split(")")[0]))
        await asyncio.sleep(0.3)
    assert ticks[1] > ticks[0]  # a per-request value is never answered from the cache
    assert svc.cache.hits == 2
