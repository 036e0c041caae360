"""A second rsyslog, unprivileged, on loopback ports: UDP, TCP and TLS inputs, each written to
its own file by a template that prints the parsed RFC 5424 fields and structured data."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop_async

BOM = "\ufeff"


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certificates(folder: Path) -> None:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is missing: run scripts/peers/snmp-syslog.sh"

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=cellgate test CA",
    )
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )


class Rsyslog:
    """``rsyslogd -n -f CONF -i PIDFILE`` with its own work folder; restartable on the same ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.tcp_port = free_port(socket.SOCK_STREAM)
        self.tls_port = free_port(socket.SOCK_STREAM)
        self.proc: asyncio.subprocess.Process | None = None
        make_certificates(folder)
        (folder / "work").mkdir()
        f = folder
        outputs = "\n".join(
            f'ruleset(name="rs_{p}") {{ action(type="mmpstrucdata") '
            f'action(type="omfile" file="{f}/{p}.log" template="fields") }}'
            for p in ("udp", "tcp", "tls")
        )
        (folder / "rsyslog.conf").write_text(f"""
global(workDirectory="{f}/work"
       DefaultNetstreamDriverCAFile="{f}/ca.pem"
       DefaultNetstreamDriverCertFile="{f}/server.pem"
       DefaultNetstreamDriverKeyFile="{f}/server.key")
module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")
template(name="fields" type="string"
         string="%msgid%\\t%syslogseverity%\\t%syslogfacility%\\t%hostname%\\t%app-name%\\t%procid%\\t%$!%\\t%msg%\\n")
{outputs}
input(type="imudp" address="127.0.0.1" port="{self.udp_port}" ruleset="rs_udp")
input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="rs_tcp")
input(type="imtcp" address="127.0.0.1" port="{self.tls_port}" ruleset="rs_tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
""")

    async def start(self) -> None:
        rsyslogd = shutil.which("rsyslogd") or shutil.which("rsyslogd", path="/usr/sbin")
        assert rsyslogd, "rsyslogd is missing: run scripts/peers/snmp-syslog.sh"
        with open(self.folder / "rsyslog.err", "ab") as err:  # the child keeps its own copy
            self.proc = await asyncio.create_subprocess_exec(
                rsyslogd,
                "-n",
                "-f",
                str(self.folder / "rsyslog.conf"),
                "-i",
                str(self.folder / "rsyslog.pid"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + 10
        while True:  # ready when its TCP input accepts
            try:
                _, w = await asyncio.open_connection("127.0.0.1", self.tcp_port)
                w.close()
                await w.wait_closed()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.returncode is not None:
                    raise AssertionError("rsyslogd did not start: " + self.errors()) from None
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_async(self.proc, 10)
        self.proc = None

    def errors(self) -> str:
        p = self.folder / "rsyslog.err"
        return p.read_text(errors="replace") if p.exists() else ""

    def received(self, protocol: str) -> list[dict[str, Any]]:
        """Every message the collector wrote for that input, parsed."""
        path = self.folder / f"{protocol}.log"
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            msgid, sev, fac, host, app, procid, sd, msg = line.split("\t", 7)
            data = json.loads(sd) if sd.strip().startswith("{") else {}
            out.append(
                {
                    "msgid": msgid,
                    "severity": int(sev),
                    "facility": int(fac),
                    "hostname": host,
                    "app": app,
                    "procid": procid,
                    "sd": data.get("rfc5424-sd", {}),
                    "msg": msg.removeprefix(BOM),
                }
            )
        return out

    async def wait_for(self, protocol: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(got := self.received(protocol)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{protocol}: {len(got)} of {count} messages arrived; "
                    f"rsyslog says: {self.errors()[-2000:]}"
                )
            await asyncio.sleep(0.05)
        return got


@pytest.fixture
async def rsyslog(tmp_path: Path) -> AsyncIterator[Rsyslog]:
    rs = Rsyslog(tmp_path)
    await rs.start()
    yield rs
    await rs.stop()
