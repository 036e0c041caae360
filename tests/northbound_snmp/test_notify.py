"""Alarm transitions arrive at net-snmp's snmptrapd as v2c traps, v3 traps and v3 informs."""

from __future__ import annotations

import asyncio
import time

from gateway.core.events import Event, EventBus
from tests.northbound_snmp.conftest import TRAP_COMMUNITY, USER, TrapReceiver

ROOT = "1.3.6.1.4.1.32473"


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
