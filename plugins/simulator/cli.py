"""``cellgate simulate``: the simulator out of process, on TCP (raw RTU) or a pty, for real tools.

The first line on stdout is where to connect (``tcp://127.0.0.1:PORT`` or ``/dev/pts/N``);
then stdin takes control commands (``press 247``, ``event {...}``, ``state 0 3``, ``coils 120``), each
answered by one JSON line on stdout. Logs and notes go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from gateway.core.clock import Clock, RealClock, ScaledClock
from gateway.core.components import CliCommand
from plugins.simulator.bus import BAUD_CHOICES
from plugins.simulator.models import BLOCK_MODELS
from plugins.simulator.options import SimOptions
from plugins.simulator.scenario import load_scenario, resolve_scenario
from plugins.simulator.server import LineServer, PtyLine, TcpLine, read_control
from plugins.simulator.site import SiteSpec, quick_site, site_from_config
from plugins.simulator.world import World

# command-line flag → SimOptions field it overrides
_OPTION_FLAGS = (
    "seed",
    "scenario",
    "step_s",
    "ambient_c",
    "unit_spread",
    "initial_soc",
    "crc_error_rate",
    "drop_rate",
    "garbage_rate",
    "factory_fresh",
    "latency_ms",
    "ups_power_w",
    "charger_trip_relay",
)


class SimulateCommand(CliCommand):
    name = "simulate"
    help = "run the battery-room simulator on TCP (raw RTU frames) or a pty, for real Modbus tools"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--listen",
            metavar="tcp://HOST:PORT",
            help="serve raw RTU frames over TCP (port 0 picks a free one; printed first)",
        )
        where.add_argument("--pty", action="store_true", help="serve on a new pty; its path is printed first")
        site = parser.add_argument_group("the site (default: the demo site, 2 × 24 C20 blocks)")
        site.add_argument(
            "-c",
            "--config",
            type=Path,
            metavar="FILE",
            help="take strings and sensors from this gateway config",
        )
        site.add_argument("--line", help="with -c: the line to serve (default: the first sim:// line)")
        site.add_argument("--units", type=int, help="quick site: units per string")
        site.add_argument(
            "--strings", type=int, default=None, help="quick site: number of strings (default 1)"
        )
        site.add_argument(
            "--model", choices=list(BLOCK_MODELS), help="quick site: monitor model (default C20)"
        )
        site.add_argument("--chemistry", choices=["vrla", "vla", "lfp", "lto", "nicd"], help="quick site")
        site.add_argument("--capacity-ah", type=float, default=100.0, help="quick site: rated capacity")
        run = parser.add_argument_group("time, line and faults")
        run.add_argument("--scenario", help="scenario file or shipped name (mains-failure, ri-ramp, ...)")
        run.add_argument("--speed", type=float, default=1.0, help="simulated time runs this much faster")
        run.add_argument(
            "--baud",
            type=int,
            choices=BAUD_CHOICES,
            help="emulate line timing at this baud (wire time, silence, latency)",
        )
        run.add_argument("--seed", type=int)
        run.add_argument("--step-s", type=float, help="physics step, simulated seconds (default 1)")
        run.add_argument("--ambient-c", type=float, help="mean room temperature")
        run.add_argument("--unit-spread", type=float, help="scale of unit-to-unit spread (0 = identical)")
        run.add_argument("--initial-soc", type=float, help="state of charge at start (default 1)")
        run.add_argument("--ups-power-w", type=float, help="UPS load per string on mains failure")
        run.add_argument(
            "--charger-trip-relay",
            type=int,
            choices=[0, 1],
            help="AUX relay wired to the chargers' trip input (ON = chargers off)",
        )
        run.add_argument("--latency-ms", type=float, help="device turnaround after the silence (default 3)")
        run.add_argument("--crc-error-rate", type=float, help="share of replies with a corrupted byte")
        run.add_argument("--drop-rate", type=float, help="share of replies lost")
        run.add_argument("--garbage-rate", type=float, help="share of replies with noise bytes")
        run.add_argument(
            "--dead-unit",
            type=int,
            action="append",
            default=[],
            metavar="ADDR",
            help="a unit id that never answers (repeatable)",
        )
        run.add_argument(
            "--factory-fresh", type=int, help="the last N block monitors start unaddressed, at 247"
        )

    def run(self, args: argparse.Namespace) -> int:
        try:
            world, line = build_world(args)
        except (ValueError, FileNotFoundError, KeyError) as e:
            print(f"cellgate simulate: {e}", file=sys.stderr)
            return 2
        try:
            return asyncio.run(serve(world, line, args))
        except OSError as e:
            print(f"cellgate simulate: {e}", file=sys.stderr)
            return 1


def build_world(args: argparse.Namespace) -> tuple[World, str]:
    """The world and the line to serve, from ``-c`` or the quick-site flags."""
    clock: Clock = ScaledClock(args.speed) if args.speed != 1.0 else RealClock()
    base: dict[str, Any] = {}
    config_dir = Path.cwd()
    if args.config is not None:
        site, line, base = _site_from_file(args.config, args.line)
        config_dir = args.config.resolve().parent
    else:
        site = quick_site(
            units=args.units or 24,
            model=args.model or "C20",
            strings=args.strings or (1 if args.units else 2),
            chemistry=args.chemistry,
            rated_capacity_ah=args.capacity_ah,
        )
        line = next(iter(site.lines))
    overrides = {k: getattr(args, k) for k in _OPTION_FLAGS if getattr(args, k, None) is not None}
    if args.dead_unit:
        overrides["dead_units"] = args.dead_unit
    options = SimOptions.model_validate({**base, **overrides})
    baud = args.baud or site.lines.get(line, 19200)
    site = SiteSpec(site.name, {**site.lines, line: baud}, site.strings, site.ambient, site.aux)
    scenario = load_scenario(resolve_scenario(options.scenario, config_dir)) if options.scenario else None
    world = World(site, options, clock, name="cli", scenario=scenario)
    bus = world.bus(line)
    bus.faults.crc_error_rate = options.crc_error_rate
    bus.faults.drop_rate = options.drop_rate
    bus.faults.garbage_rate = options.garbage_rate
    for dev in bus.devices:
        dev.silent = dev.silent or dev.address in options.dead_units
    return world, line


def _site_from_file(path: Path, line: str | None) -> tuple[SiteSpec, str, dict[str, Any]]:
    """Strings and sensors of one line of a gateway config, validated by the core's loader."""
    from gateway.cli.common import plugins
    from gateway.core.config import ConfigError, load_config

    try:
        loaded = load_config(path, plugins())
    except ConfigError as e:
        raise ValueError(f"invalid configuration:\n{e}") from None
    lines = loaded.root.lines
    chosen = (
        next((ln for ln in lines if ln.name == line), None)
        if line
        else next((ln for ln in lines if ln.scheme == "sim"), lines[0] if lines else None)
    )
    if chosen is None:
        raise ValueError(f"{path}: no line {line!r}" if line else f"{path}: no lines")
    site = site_from_config(loaded.root).only_lines({chosen.name})
    return site, chosen.name, dict(chosen.options) if chosen.scheme == "sim" else {}


async def serve(world: World, line: str, args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; prints where to connect first."""
    server = LineServer(world.bus(line), emulate_timing=args.baud is not None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tcp: TcpLine | None = None
    pty: PtyLine | None = None
    if args.pty:
        pty = PtyLine(server)
        pty.start()
        print(pty.path, flush=True)
    else:
        host, port = _parse_listen(args.listen)
        tcp = TcpLine(server)
        bound_host, bound_port = await tcp.start(host, port)
        print(f"tcp://{bound_host}:{bound_port}", flush=True)
    n_dev = len(world.bus(line).devices)
    print(
        f"cellgate simulate: line {line}, {n_dev} devices, {world.plant.n_units} units, "
        f"speed {args.speed}, baud {world.bus(line).baud}{' (timed)' if args.baud else ''}",
        file=sys.stderr,
        flush=True,
    )
    ticker = asyncio.create_task(world.run())
    control = asyncio.create_task(read_control(world, line))
    try:
        await stop.wait()
    finally:
        for task in (ticker, control):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if tcp is not None:
            await tcp.close()
        if pty is not None:
            pty.close()
    return 0


def _parse_listen(url: str) -> tuple[str, int]:
    if not url.startswith("tcp://") or ":" not in url[6:]:
        raise OSError(f"--listen wants tcp://HOST:PORT, not {url!r}")
    host, _, port = url[6:].rpartition(":")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    """``python -m plugins.simulator`` (same as ``cellgate simulate``)."""
    parser = argparse.ArgumentParser(prog="cellgate simulate", description=SimulateCommand.help)
    cmd = SimulateCommand()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(argv))
