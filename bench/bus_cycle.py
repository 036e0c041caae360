"""Bus cycle time against the wire-time lower bound, on the simulator with emulated line timing.

1. One line of 50 C20 monitors at 19200 and 115200 baud: the measured cycle against the bound
   computed from the frame sizes (broadcast MEASURE, the 50 ms measure wait, per monitor one
   8-byte request and one 25-byte reply, each followed by the inter-frame silence), and
   against the same bound plus the simulated monitors' turnaround (3 ms, datasheet "typically
   the silence + 2–5 ms").
2. 512 monitors on 11 lines polled in parallel: the cycle time against one 50-monitor line,
   and the CPU time of this process per cycle.

Run: .venv/bin/python bench/bus_cycle.py [--cycles N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from gateway.core.bus.master import BusMaster
from gateway.core.bus.rtu import LineTiming, frames_wire_time
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import CycleResult, bindings_for_line
from gateway.core.clock import RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.config import GatewayConfig
from gateway.core.events import EventBus
from plugins.monitors.plugin import BLOCK_DRIVERS, SENSOR_DRIVERS
from plugins.simulator.options import SimOptions
from plugins.simulator.transport import SimTransport

DRIVERS = {c.model: c for c in (*BLOCK_DRIVERS, *SENSOR_DRIVERS)}
LATENCY_S = 0.003
MEASURE_WAIT_S = 0.05
BAUD_CODES = {9600: 0, 19200: 1, 38400: 2, 57600: 3, 115200: 4}


def site(per_line: list[int], baud: int, world: str) -> GatewayConfig:
    lines, strings = [], []
    for i, n in enumerate(per_line):
        name = f"bus{i + 1}"
        lines.append({"name": name, "url": f"sim://{world}", "baud": baud})
        strings.append({"name": f"S{i + 1}", "units": {"model": "C20", "count": n, "bus": name}})
    return GatewayConfig.model_validate({"lines": lines, "strings": strings})


def bound_s(n_monitors: int, baud: int, latency_s: float = 0.0) -> float:
    """Wire time of one cycle: broadcast + wait + n × (request, silence, reply, silence)."""
    timing = LineTiming(baud)
    wire = frames_wire_time(timing, [(8, 0)] + [(8, 25)] * n_monitors)
    return wire + MEASURE_WAIT_S + n_monitors * latency_s


async def run_lines(per_line: list[int], baud: int, cycles: int) -> tuple[list[float], float]:
    """Poll every line ``cycles`` times in parallel; per-cycle wall times and CPU seconds per cycle."""
    config = site(per_line, baud, f"bench{baud}{len(per_line)}")
    ctx = GatewayContext(RealClock(), CommandQueue(), EventBus(), Path("."), Path("."))
    ctx.config = config
    options = SimOptions(emulate_timing=True, latency_ms=LATENCY_S * 1000, seed=1)
    masters: list[BusMaster] = []
    results: list[list[CycleResult]] = []
    for line in config.lines:
        got: list[CycleResult] = []
        transport = SimTransport(line.url, options, ctx)
        m = BusMaster(
            line,
            transport,
            bindings_for_line(config, line.name, DRIVERS),
            DRIVERS,
            ctx,
            got.append,
            BusSettings(cycle_s=0),
        )
        m.ri_permitted = lambda _a: False  # steady state: no Ri pulses in the measured cycles
        masters.append(m)
        results.append(got)
    for m in masters:
        await m.transport.open()
        for dev in m.transport.bus.devices:  # type: ignore[attr-defined]
            # commissioned at this speed (HR8 + reboot on a real site)
            dev.baud_code = dev.baud_setting = BAUD_CODES[baud]
    # warm-up: identity checks and first writes (watchdog, bypass 0) are not steady state
    for _ in range(2):
        await asyncio.gather(*(m.run_once() for m in masters))
    walls = []
    cpu0 = time.process_time()
    for _ in range(cycles):
        t0 = time.perf_counter()
        out = await asyncio.gather(*(m.run_once() for m in masters))
        walls.append(time.perf_counter() - t0)
        bad = [r for r in out if r.comm_lost or r.line_stats.state != "up"]
        assert not bad, f"a line lost monitors during the bench: {bad[0].comm_lost}"
    cpu = (time.process_time() - cpu0) / cycles
    for m in masters:
        await m.stop()
    return walls, cpu


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=5)
    args = ap.parse_args(argv)
    print("one line, 50 × C20 (simulated line timing, device turnaround 3 ms)")
    print(f"{'baud':>7} {'cycle':>9} {'bound':>9} {'ratio':>6} {'bound+3ms':>10} {'ratio':>6}")
    single: dict[int, float] = {}
    for baud in (19200, 115200):
        walls, _cpu = asyncio.run(run_lines([50], baud, args.cycles))
        cycle = statistics.median(walls)
        single[baud] = cycle
        b, bt = bound_s(50, baud), bound_s(50, baud, LATENCY_S)
        print(
            f"{baud:>7} {cycle * 1000:>7.1f}ms {b * 1000:>7.1f}ms {cycle / b:>6.2f} {bt * 1000:>8.1f}ms "
            f"{cycle / bt:>6.2f}"
        )
    per_line = [47] * 6 + [46] * 5  # 512 monitors
    print(f"\n512 × C20 on 11 lines in parallel ({sum(per_line)} monitors)")
    print(f"{'baud':>7} {'cycle':>9} {'1 line':>9} {'ratio':>6} {'CPU/cycle':>10}")
    for baud in (19200, 115200):
        walls, cpu = asyncio.run(run_lines(per_line, baud, args.cycles))
        cycle = statistics.median(walls)
        print(
            f"{baud:>7} {cycle * 1000:>7.1f}ms {single[baud] * 1000:>7.1f}ms {cycle / single[baud]:>6.2f} "
            f"{cpu * 1000:>8.1f}ms"
        )


if __name__ == "__main__":
    main()
