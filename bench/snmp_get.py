"""SNMP agent throughput on a 512-unit site, side by side with net-snmp's snmpd in the same run.

Both agents serve the same OIDs (snmpd through ``override`` lines generated from our table).
Measures: GET/s (one varbind, v2c and v3 authPriv, a replayed request from a closed-loop UDP
client in its own process) and a full ``snmpbulkwalk`` of the site. Prints the ratios.

    .venv/bin/python bench/snmp_get.py [--seconds 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import os
import pstats
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMUNITY = "bench-community"
USER, AUTH, PRIV = "bench", "bench-auth-pass", "bench-priv-pass"
V3 = ["-v3", "-l", "authPriv", "-u", USER, "-a", "SHA-256", "-A", AUTH, "-x", "AES", "-X", PRIV]
GET_OID = "1.3.6.1.4.1.32473.1.3.1.5.300"  # cgUnitVoltage of unit 300
WALK_ROOT = "1.3.6.1.4.1.32473"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_snapshot():  # type: ignore[no-untyped-def]
    from tests.northbound_snmp.synthetic import snapshot

    return snapshot(strings=16, units_per_string=32, t=time.time())  # 512 units


# ---------------------------------------------------------------------------------- our agent
def serve_cellgate(port: int, ready: mp.Event, stop: mp.Event, profile: str | None, cache: bool) -> None:
    from plugins.northbound_snmp.agent import SnmpService
    from plugins.northbound_snmp.config import SnmpConfig
    from tests.northbound_snmp.synthetic import SnapshotHolder, context

    async def main() -> None:
        cfg = SnmpConfig.model_validate(
            {
                "port": port,
                "v2c": {"enabled": True, "community": COMMUNITY},
                "response_cache": cache,
                "users": [{"name": USER, "auth_key": AUTH, "priv_key": PRIV}],
            }
        )
        with tempfile.TemporaryDirectory() as tmp:
            svc = SnmpService(cfg, context(SnapshotHolder(site_snapshot()), Path(tmp)))
            await svc.start()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await svc.stop()

    import logging

    logging.disable(logging.INFO)
    if profile:
        cProfile.runctx("asyncio.run(main())", globals(), locals(), profile)
    else:
        asyncio.run(main())


def snmpd_config(folder: Path, port: int) -> Path:
    """snmpd serving the same OIDs and types as our agent, as static overrides."""
    from pysnmp.proto import rfc1902

    from plugins.northbound_snmp.values import AgentIdentity, build_table

    kinds = {
        rfc1902.Integer32: "integer",
        rfc1902.Unsigned32: "unsigned",
        rfc1902.Gauge32: "gauge",
        rfc1902.OctetString: "octet_str",
        rfc1902.ObjectIdentifier: "object_id",
    }
    lines = [
        f"agentAddress udp:127.0.0.1:{port}",
        f"rocommunity {COMMUNITY} 127.0.0.1",
        f"createUser {USER} SHA-256 {AUTH} AES {PRIV}",
        f"rouser {USER} priv",
        "dontLogTCPWrappersConnects yes",
    ]
    for oid, value in build_table(site_snapshot(), AgentIdentity(32473, "bench")).items():
        if oid[:7] != (1, 3, 6, 1, 4, 1, 32473):
            continue
        kind = kinds[type(value)]
        text = f'"{bytes(value).decode()}"' if kind == "octet_str" else str(value.prettyPrint())
        lines.append(f"override .{'.'.join(map(str, oid))} {kind} {text}")
    conf = folder / "snmpd.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


# ---------------------------------------------------------------------------------- clients
def capture(port: int, args: list[str]) -> bytes:
    """The last request a net-snmp snmpget sends (for v3: the authPriv one after discovery)."""
    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.bind(("127.0.0.1", 0))
    relay.settimeout(3)
    proc = subprocess.Popen(
        ["snmpget", *args, "-t", "3", f"udp:127.0.0.1:{relay.getsockname()[1]}", GET_OID],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MIBS": ""},
    )
    last, client = b"", None
    try:
        while proc.poll() is None:
            try:
                data, addr = relay.recvfrom(65535)
            except TimeoutError:
                break
            if addr[1] == port:
                relay.sendto(data, client)
            else:
                client, last = addr, data
                relay.sendto(data, ("127.0.0.1", port))
    finally:
        relay.close()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return last


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (
        subprocess.run(
            ["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.5", "-r", "0", f"udp:127.0.0.1:{port}", GET_OID],
            capture_output=True,
            check=False,
            env={**os.environ, "MIBS": ""},
        ).returncode
        != 0
    ):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no agent answers on port {port}")


def get_rate(port: int, request: bytes, seconds: float, window: int = 4) -> float:
    """Responses per second to ``request`` replayed by a closed-loop client with ``window`` in flight."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        s.settimeout(0.5)
        for _ in range(window):
            s.send(request)
        done, t0 = 0, time.perf_counter()
        while (now := time.perf_counter()) - t0 < seconds:
            try:
                s.recv(65535)
                done += 1
            except TimeoutError:  # a lost datagram: refill the window
                for _ in range(window):
                    s.send(request)
                continue
            s.send(request)
        return done / (now - t0)


def walk(port: int, args: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(
        ["snmpbulkwalk", *args, "-Cr60", "-On", "-t", "5", f"udp:127.0.0.1:{port}", WALK_ROOT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MIBS": ""},
    ).stdout
    return time.perf_counter() - t0, out.count("\n")


def rate_in_process(port: int, request: bytes, seconds: float) -> float:
    """The client in its own process, so it never competes with our agent for one GIL."""
    with mp.Pool(1) as pool:
        return pool.apply(get_rate, (port, request, seconds))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each GET measurement")
    ap.add_argument("--profile", action="store_true", help="profile our agent, print the top functions")
    args = ap.parse_args()
    for tool in ("snmpd", "snmpget", "snmpbulkwalk"):
        if not shutil.which(tool) and not shutil.which(tool, path="/usr/sbin"):
            print(f"{tool} missing: run scripts/peers/snmp-syslog.sh", file=sys.stderr)
            return 2

    from pyasn1.codec.ber import encoder
    from pysnmp.proto.api import v2c

    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier(GET_OID), v2c.null)])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, COMMUNITY)
    v2c.apiMessage.set_pdu(msg, pdu)
    v2c_request = encoder.encode(msg)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # --- net-snmp snmpd
        sport = free_udp_port()
        snmpd = subprocess.Popen(
            [
                shutil.which("snmpd") or "/usr/sbin/snmpd",
                "-f",
                "-Lf",
                "/dev/null",
                "-C",
                "-c",
                str(snmpd_config(folder, sport)),
            ],
            env={**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(folder / "snmpd")},
        )
        # --- cellgate's agent, with and without its response cache, each in its own process
        agents, ports = [], {"snmpd": sport}
        prof = str(folder / "agent.prof") if args.profile else None
        for name, cache in (("cellgate", True), ("cellgate-nocache", False)):
            ports[name] = free_udp_port()
            ready, stop = mp.Event(), mp.Event()
            proc = mp.Process(
                target=serve_cellgate, args=(ports[name], ready, stop, prof if not cache else None, cache)
            )
            proc.start()
            agents.append((proc, ready, stop))
        try:
            for _, ready, _ in agents:
                assert ready.wait(30), "agent did not start"
            wait_ready(sport)  # snmpd parses 8,000 override lines first
            for name, port in ports.items():
                v3_request = capture(port, V3)
                r = results[name] = {}
                # the first walk: nothing cached yet, what an NMS sees after each new snapshot
                r["walk_v2c_s"], r["walk_oids"] = walk(port, ["-v2c", "-c", COMMUNITY])
                r["walk_v2c_again_s"], _ = walk(port, ["-v2c", "-c", COMMUNITY])
                r["walk_v3_s"], _ = walk(port, V3)
                r["get_v2c"] = rate_in_process(port, v2c_request, args.seconds)
                r["get_v3"] = rate_in_process(port, v3_request, args.seconds)
        finally:
            for proc, _, stop in agents:
                stop.set()
                proc.join(30)
            snmpd.terminate()
            snmpd.wait(10)
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)

    s, c, n = results["snmpd"], results["cellgate"], results["cellgate-nocache"]
    print(
        f"512-unit site: cellgate serves {int(c['walk_oids'])} OIDs, snmpd {int(s['walk_oids'])} "
        f"(the same OIDs as static overrides); {args.seconds:g} s per GET figure"
    )
    print(f"{'':28}{'snmpd':>11}{'cellgate':>11}{'ratio':>7}{'no cache':>11}{'ratio':>7}")
    for key, label in (("get_v2c", "GET/s v2c (same request)"), ("get_v3", "GET/s v3 authPriv")):
        print(
            f"{label:28}{s[key]:>11.0f}{c[key]:>11.0f}{c[key] / s[key]:>7.2f}"
            f"{n[key]:>11.0f}{n[key] / s[key]:>7.2f}"
        )
    for key, label in (
        ("walk_v2c_s", "bulkwalk v2c, first (s)"),
        ("walk_v2c_again_s", "bulkwalk v2c, again (s)"),
        ("walk_v3_s", "bulkwalk v3 authPriv (s)"),
    ):
        print(
            f"{label:28}{s[key]:>11.3f}{c[key]:>11.3f}{s[key] / c[key]:>7.2f}"
            f"{n[key]:>11.3f}{s[key] / n[key]:>7.2f}"
        )
    print("ratio: cellgate throughput / snmpd throughput (for walks: snmpd time / cellgate time)")
    ok = max(c["walk_v2c_s"], c["walk_v3_s"], n["walk_v2c_s"], n["walk_v3_s"]) < 2.0
    print(f"every full walk of 512 units under 2 s: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
