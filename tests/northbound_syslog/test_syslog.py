"""Events reach a real rsyslog over UDP, TCP (octet counting) and TLS with the right RFC 5424
fields, and a collector outage loses nothing within the buffer and reports what it dropped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from gateway.core.clock import RealClock
from gateway.core.commands import Actor, CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import Event, EventBus
from plugins.northbound_syslog.config import SyslogConfig
from plugins.northbound_syslog.service import SyslogService
from tests.northbound_syslog.conftest import Rsyslog

SD = "cellgate@32473"


def service(tmp: Path, bus: EventBus, collectors: list[dict[str, Any]], **cfg: Any) -> SyslogService:
    ctx = GatewayContext(clock=RealClock(), commands=CommandQueue(), events=bus, config_dir=tmp, data_dir=tmp)
    config = SyslogConfig.model_validate({"collectors": collectors, "hostname": "gw-test", **cfg})
    return SyslogService(config, ctx)


def alarm(state: str, n: int = 1, **data: Any) -> Event:
    return Event(
        time=time.time(),
        kind="alarm",
        code="unit_voltage_high",
        level="alarm",
        source="strings[1].units[3]",
        state=state,
        message=f"String B unit 4: voltage high #{n}",
        data={"alarm_id": 7, "value": 14.93, **data},
    )


async def test_events_arrive_over_udp_tcp_and_tls_with_their_fields(tmp_path: Path, rsyslog: Rsyslog) -> None:
    bus = EventBus()
    svc = service(
        tmp_path,
        bus,
        [
            {"host": "127.0.0.1", "port": rsyslog.udp_port, "protocol": "udp"},
            {"host": "127.0.0.1", "port": rsyslog.tcp_port, "protocol": "tcp"},
            {"host": "127.0.0.1", "port": rsyslog.tls_port, "protocol": "tls", "tls": {"ca_file": "ca.pem"}},
        ],
    )
    await svc.start()
    try:
        bus.publish(alarm("raised"))
        bus.publish(alarm("cleared"))
        bus.publish(
            Event(
                time=time.time(),
                kind="command",
                code="ack_alarm",
                level="info",
                message='operator acknowledged alarm 7 ("quoted" [bracketed] \\slashed)',
                actor=Actor("alice", "operator", "192.0.2.7", "web"),
                data={"alarm_id": 7, "value": 'x"y]z\\w'},
            )
        )
        for protocol in ("udp", "tcp", "tls"):
            got = await rsyslog.wait_for(protocol, 3)
            raised, cleared, ack = got
            assert raised["msgid"] == "unit_voltage_high"
            assert raised["severity"] == 3  # err
            assert raised["facility"] == 16  # local0
            assert (raised["hostname"], raised["app"]) == ("gw-test", "cellgate")
            assert raised["msg"] == "String B unit 4: voltage high #1"
            sd = raised["sd"][SD]
            assert sd["code"] == "unit_voltage_high"
            assert sd["state"] == "raised"
            assert sd["severity"] == "alarm"
            assert sd["string"] == "2"  # strings[1] is the second string
            assert sd["unit"] == "4"  # units[3] is position 4
            assert sd["value"] == "14.93"
            assert sd["alarm_id"] == "7"
            assert cleared["severity"] == 5  # notice: the condition went away
            assert cleared["sd"][SD]["state"] == "cleared"
            assert ack["sd"][SD]["user"] == "alice"
            assert ack["sd"][SD]["via"] == "web"
            assert ack["sd"][SD]["value"] == 'x"y]z\\w'  # escaped on the wire, intact after parsing
            assert ack["msg"] == 'operator acknowledged alarm 7 ("quoted" [bracketed] \\slashed)'
            assert ack["severity"] == 6
    finally:
        await svc.stop()
    assert all(s["dropped"] == 0 for s in svc.stats())


async def test_outage_loses_nothing_within_the_buffer_and_reports_what_it_dropped(
    tmp_path: Path, rsyslog: Rsyslog
) -> None:
    bus = EventBus()
    svc = service(
        tmp_path,
        bus,
        [
            {
                "host": "127.0.0.1",
                "port": rsyslog.tcp_port,
                "protocol": "tcp",
                "buffer_messages": 50,
                "reconnect_max_s": 0.3,
            },
            {
                "host": "127.0.0.1",
                "port": rsyslog.tls_port,
                "protocol": "tls",
                "tls": {"ca_file": "ca.pem"},
                "buffer_messages": 50,
                "reconnect_max_s": 0.3,
            },
        ],
        kinds=["alarm"],
    )
    tcp, tls = svc.senders
    await svc.start()
    try:
        bus.publish(alarm("raised", 0))
        await rsyslog.wait_for("tcp", 1)
        await rsyslog.wait_for("tls", 1)

        # outage 1: 30 events, within the buffer
        await rsyslog.stop()
        await _wait(lambda: tcp.state != "up" and tls.state != "up")
        for n in range(1, 31):
            bus.publish(alarm("raised", n))
        await _wait(lambda: len(tcp.buffer) == 30 and len(tls.buffer) == 30)
        await rsyslog.start()
        for protocol in ("tcp", "tls"):
            got = await rsyslog.wait_for(protocol, 31)
            assert [m["msg"].rsplit("#", 1)[1] for m in got] == [str(n) for n in range(31)]

        # outage 2: 80 events into a buffer of 50: the 30 oldest are dropped and reported
        await rsyslog.stop()
        await _wait(lambda: tcp.state != "up" and tls.state != "up")
        for n in range(31, 111):
            bus.publish(alarm("raised", n))
        await _wait(lambda: tcp.dropped == 30 and tls.dropped == 30)
        await rsyslog.start()
        for protocol in ("tcp", "tls"):
            got = (await rsyslog.wait_for(protocol, 31 + 1 + 50))[31:]
            notice, events = got[0], got[1:]
            assert notice["msgid"] == "syslog_dropped"
            assert notice["sd"][SD]["dropped"] == "30"
            assert notice["severity"] == 4
            assert [m["msg"].rsplit("#", 1)[1] for m in events] == [str(n) for n in range(61, 111)]
            await asyncio.sleep(0.3)
            assert len(rsyslog.received(protocol)) == 82  # nothing twice
    finally:
        await svc.stop()
    assert [s["dropped"] for s in svc.stats()] == [30, 30]


async def _wait(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)
