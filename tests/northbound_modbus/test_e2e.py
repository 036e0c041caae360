"""End to end: ``cellgate run`` with the modbus service enabled, read by mbpoll."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.northbound_modbus.peers import free_port, mbpoll
from tests.processes import stop_async

CONFIG = """
site: {{name: Modbus end to end}}
data_dir: var
lines:
  - {{name: bus1, url: "sim://e2e", baud: 19200}}
strings:
  - name: A
    units: {{model: C20, count: 4, bus: bus1, first_address: 1}}
  - name: B
    units: {{model: C20, count: 3, bus: bus1, first_address: 10}}
services:
  - {{type: modbus, tcp: {{port: {port}}}, writes: {{enabled: true, allow: [127.0.0.1]}}}}
"""


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if proc.returncode is not None:
            raise AssertionError(f"cellgate run exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listening on {port} after {timeout} s")


async def test_cellgate_run_serves_the_default_map(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "cellgate.yaml").write_text(CONFIG.format(port=port))
    log = (tmp_path / "gateway.log").open("wb")  # a file, not a pipe nobody reads while it runs
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "run",
        "-c",
        str(tmp_path / "cellgate.yaml"),
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "CELLGATE_PLUGINS": "builtin"},
    )
    try:
        await wait_for_port(port, proc)
        r = await mbpoll("-t", "3", "-r", "1003", "-c", "2", "-p", str(port), "127.0.0.1")
        assert r.values() == {1003: "7", 1004: "2"}, r.exception
        for _ in range(50):  # the first snapshot may take a cycle
            r = await mbpoll("-t", "3", "-r", "1000", "-p", str(port), "127.0.0.1")
            if int(r.values()[1000]) & 1:
                break
            await asyncio.sleep(0.2)
        assert int(r.values()[1000]) & 1, "site.flags never showed 'running'"
        volts = await mbpoll("-t", "3", "-r", "10000", "-c", "7", "-p", str(port), "127.0.0.1")
        flags = await mbpoll("-t", "3", "-r", "16000", "-c", "7", "-p", str(port), "127.0.0.1")
        for n in range(7):
            mv, status = int(volts.values()[10000 + n]), int(flags.values()[16000 + n])
            # either a plausible block voltage, or the no-data value with the no-data bit: never half of each
            assert (mv == 65535) == bool(status & 1), (n, mv, status)
            assert mv == 65535 or 8000 < mv < 16000, (n, mv)
        r = await mbpoll("-t", "3", "-r", "10007", "-p", str(port), "127.0.0.1")
        assert "Illegal data address" in r.exception  # only 7 units mapped
        # writes reach the engine, which checks the role: equalization is an operator's, thresholds an admin's
        r = await mbpoll("-t", "0", "-r", "0", "-p", str(port), "127.0.0.1", "1")
        assert r.returncode == 0, r.exception
        r = await mbpoll("-t", "4:float", "-B", "-r", "3100", "-p", str(port), "127.0.0.1", "14.0")
        assert "failure" in r.exception.lower()
    finally:
        await stop_async(proc, 15)
        log.close()
    assert proc.returncode == 0, (tmp_path / "gateway.log").read_text()[-2000:]
