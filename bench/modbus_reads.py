"""Reads/s of 100 registers from a C (libmodbus) client: cellgate's ``modbus`` service with a
512-unit map while snapshots keep changing, against a bare pymodbus server with static registers.

Run: ``.venv/bin/python bench/modbus_reads.py [--seconds 3] [--rounds 3] [--live]``. By default
the service runs in this process over synthetic snapshots replaced every 0.5 s; ``--live``
starts ``cellgate run`` on a simulated 512-unit site (4 lines × 128 units) instead, so the
gateway polls its buses while it serves. Needs gcc and libmodbus-dev
(``scripts/peers/modbus-tools.sh``). Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymodbus.server import ModbusTcpServer  # noqa: E402
from pymodbus.simulator import DataType, SimData, SimDevice  # noqa: E402

from gateway.core.clock import RealClock  # noqa: E402
from gateway.core.commands import CommandQueue  # noqa: E402
from gateway.core.components import GatewayContext  # noqa: E402
from gateway.core.events import EventBus  # noqa: E402
from plugins.northbound_modbus.config import ModbusServiceConfig  # noqa: E402
from plugins.northbound_modbus.service import ModbusService  # noqa: E402
from tests.northbound_modbus.synthetic import snapshot  # noqa: E402

LAYOUT = (256, 256)  # 512 units
CLIENT_C = r"""
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    int address = atoi(argv[2]); double seconds = atof(argv[3]);
    uint16_t regs[125]; long ok = 0, failed = 0;
    if (!ctx || modbus_connect(ctx) == -1) { fprintf(stderr, "connect failed\n"); return 1; }
    modbus_set_slave(ctx, 1);
    double t0 = now(), t;
    while ((t = now()) - t0 < seconds) {
        if (modbus_read_registers(ctx, address, 100, regs) == 100) ok++; else failed++;
    }
    printf("%ld %ld %f\n", ok, failed, t - t0);
    modbus_close(ctx); modbus_free(ctx);
    return failed ? 2 : 0;
}
"""


def build_client(workdir: Path) -> Path:
    if not shutil.which("cc") or not Path("/usr/include/modbus/modbus.h").exists():
        sys.exit("needs gcc and libmodbus-dev: run scripts/peers/modbus-tools.sh")
    src, exe = workdir / "client.c", workdir / "client"
    src.write_text(CLIENT_C)
    subprocess.run(["cc", "-O2", "-I/usr/include/modbus", str(src), "-o", str(exe), "-lmodbus"], check=True)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(client: Path, port: int, address: int, seconds: float) -> float:
    proc = await asyncio.create_subprocess_exec(
        str(client), str(port), str(address), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    ok, failed, elapsed = out.split()
    if int(failed) or proc.returncode:
        raise RuntimeError(f"{failed} reads failed")
    return int(ok) / float(elapsed)


async def bare_pymodbus(client: Path, seconds: float) -> float:
    port = free_port()
    device = SimDevice(id=1, simdata=[SimData(0, count=200, values=1234, datatype=DataType.REGISTERS)])
    server = ModbusTcpServer(device, address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    try:
        return await measure(client, port, 0, seconds)
    finally:
        await server.shutdown()


async def cellgate(client: Path, seconds: float) -> tuple[float, int]:
    state = {"snap": snapshot(version=1, time=time.time(), layout=LAYOUT)}
    ctx = GatewayContext(
        clock=RealClock(),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=ROOT,
        data_dir=ROOT,
        snapshot_source=lambda: state["snap"],
    )

    async def engine() -> None:
        # stands in for the live engine: a new snapshot version every 0.5 s, built in this loop
        version = 1
        while True:
            await asyncio.sleep(0.5)
            version += 1
            state["snap"] = dataclasses.replace(
                snapshot(version=version, time=time.time(), layout=LAYOUT), version=version
            )

    service = ModbusService(ModbusServiceConfig.model_validate({"tcp": {"port": free_port()}}), ctx)
    await service.start()
    task = asyncio.create_task(engine())
    try:
        assert service.store is not None
        before = service.store.rebuilds
        rate = await measure(client, service.port or 0, 10000, seconds)  # unit voltages 0..99
        return rate, service.store.rebuilds - before
    finally:
        task.cancel()
        await service.stop()


LIVE_CONFIG = """site: {{name: modbus bench}}
data_dir: var
lines:
{lines}
strings:
{strings}
services:
  - {{type: modbus, tcp: {{port: {port}}}}}
"""


async def live_cellgate(client: Path, seconds: float, workdir: Path) -> float:
    port = free_port()
    lines = "\n".join(f'  - {{name: bus{j}, url: "sim://bench{j}", baud: 115200}}' for j in range(4))
    strings = "\n".join(
        f"  - name: S{j}\n    units: {{model: C20ex3, count: 128, bus: bus{j}, first_address: 1}}"
        for j in range(4)
    )
    config = workdir / "cellgate.yaml"
    config.write_text(LIVE_CONFIG.format(lines=lines, strings=strings, port=port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "run",
        "-c",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # let the bus masters get going
        return await measure(client, port, 10000, seconds)
    finally:
        proc.terminate()
        await proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--live", action="store_true", help="bench a running `cellgate run` instead")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        client = build_client(Path(tmp))
        bare, ours, rebuilds = [], [], 0
        for _ in range(args.rounds):  # interleaved, so machine load affects both alike
            bare.append(await bare_pymodbus(client, args.seconds))
            if args.live:
                ours.append(await live_cellgate(client, args.seconds, Path(tmp)))
                continue
            rate, n = await cellgate(client, args.seconds)
            ours.append(rate)
            rebuilds += n
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"bare pymodbus 3.16, static registers : {b:8.0f} reads/s of 100 registers")
    what = "`cellgate run`, 512 simulated units" if args.live else f"{rebuilds} rebuilds for new snapshots"
    print(f"cellgate modbus, 512-unit map        : {o:8.0f} reads/s of 100 registers ({what})")
    print(f"ratio cellgate / bare                : {o / b:8.2f}  (target >= 0.8)")


if __name__ == "__main__":
    asyncio.run(main())
