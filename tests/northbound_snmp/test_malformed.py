"""10,000 random, truncated and bit-flipped datagrams never crash the agent."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

from tests.northbound_snmp.conftest import V2C, V3, net_snmp, parse_numeric

SYS_DESCR = "1.3.6.1.2.1.1.1.0"


async def capture_requests(agent_port: int, args: list[str]) -> list[bytes]:
    """What a net-snmp client sends (v3: discovery then authPriv), through a recording relay."""
    loop = asyncio.get_running_loop()
    seen: list[bytes] = []
    client_addr: list[Any] = []

    class Relay(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.t = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            if addr[1] == agent_port:
                self.t.sendto(data, client_addr[-1])
            else:
                client_addr.append(addr)
                seen.append(data)
                self.t.sendto(data, ("127.0.0.1", agent_port))

    transport, _ = await loop.create_datagram_endpoint(Relay, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        rc, _out, err = await net_snmp("snmpget", *args, f"udp:127.0.0.1:{port}", SYS_DESCR)
        assert rc == 0, err
    finally:
        transport.close()
    return seen


def mutations(samples: list[bytes], count: int, rng: random.Random) -> list[bytes]:
    out = []
    while len(out) < count:
        base = rng.choice(samples)
        kind = rng.randrange(4)
        if kind == 0:  # truncated
            out.append(base[: rng.randrange(len(base))])
        elif kind == 1:  # a few flipped bytes
            b = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            out.append(bytes(b))
        elif kind == 2:  # lengths that lie: an inflated length byte somewhere in the header
            b = bytearray(base)
            b[rng.randrange(min(len(b), 24))] = rng.choice((0x81, 0x82, 0x84, 0xFF, 0x7F))
            out.append(bytes(b))
        else:  # valid prefix, garbage tail
            cut = rng.randrange(len(base))
            out.append(base[:cut] + rng.randbytes(rng.randrange(1, 64)))
    return out


async def test_ten_thousand_malformed_datagrams_do_not_crash_the_agent(start_agent) -> None:
    loop = asyncio.get_running_loop()
    crashes: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: crashes.append(ctx))
    try:
        svc = await start_agent()
        port = svc.address[1]
        samples = await capture_requests(port, V2C) + await capture_requests(port, V3)
        assert len(samples) >= 3  # v2c get, v3 discovery, v3 authPriv get

        rng = random.Random(20251124)
        datagrams = [rng.randbytes(rng.randrange(0, 600)) for _ in range(3000)]
        datagrams += mutations(samples, 7000, rng)
        in_pkts = _snmp_in_pkts(svc)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setblocking(False)
            for i, d in enumerate(datagrams, start=1):
                s.sendto(d, ("127.0.0.1", port))
                if i % 20 == 0:
                    # let the agent catch up: we test the agent, not the kernel's socket buffer
                    deadline = loop.time() + 0.5
                    while _snmp_in_pkts(svc) - in_pkts < i - 2 and loop.time() < deadline:
                        await asyncio.sleep(0.001)
                    _drain(s)
        handled = _snmp_in_pkts(svc) - in_pkts
        assert handled >= 9000, f"only {handled} of 10000 datagrams reached the agent"

        rc, out, err = await net_snmp("snmpget", *V3, "-On", f"udp:127.0.0.1:{port}", SYS_DESCR)
        assert rc == 0, err
        assert "cellgate" in parse_numeric(out)[SYS_DESCR]
        assert crashes == []
        assert svc.malformed > 0  # pysnmp's decoder trips on some of them: counted, not raised
    finally:
        loop.set_exception_handler(previous)


def _snmp_in_pkts(svc: Any) -> int:
    (counter,) = svc.engine.get_mib_builder().import_symbols("__SNMPv2-MIB", "snmpInPkts")
    return int(counter.syntax)


def _drain(s: socket.socket) -> None:
    try:
        while True:
            s.recv(65535)
    except BlockingIOError:
        pass
