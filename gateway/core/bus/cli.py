"""``cellgate bus scan|poll|address``: field tools for commissioning a line, no config file needed.

The line is named by URL as in ``lines[].url``; the transport comes from the installed plugins.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gateway.core.bus.driver import PolledDriver
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.tools import address_wizard, poll_once, rtu_for, scan
from gateway.core.clock import RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import CliCommand, GatewayContext, Transport
from gateway.core.events import EventBus
from gateway.core.logging import setup_logging

BAUDS = (9600, 19200, 38400, 57600, 115200)


def parse_range(text: str) -> list[int]:
    """``5``, ``1-50`` or ``1-24,100,110-120`` → the unit ids, each within 1–247."""
    ids: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected ids like 1-24,100") from None
        if not 1 <= first <= last <= 247:
            raise argparse.ArgumentTypeError(f"{part!r}: addresses are 1–247")
        ids.extend(range(first, last + 1))
    return sorted(set(ids))


class BusCommand(CliCommand):
    """Scan a line, poll it once, or address new monitors one button press at a time."""

    name = "bus"
    help = "field tools on one RS-485 line: scan, poll, address (no config file needed)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="bus_command", metavar="TOOL", required=True)
        for name, text in (
            ("scan", "find every device on the line (ids 1–247)"),
            ("poll", "read every device found and print the decoded readings"),
            ("address", "addressing wizard: assign ids to devices in learn mode"),
        ):
            p = sub.add_parser(name, help=text, description=text)
            p.add_argument("-v", "--verbose", action="store_true", help="log every request's fate to stderr")
            p.add_argument(
                "url",
                help="the line: /dev/ttyUSB0, socket://host:port, rfc2217://host:port, mbtcp://host:port",
            )
            p.add_argument("--baud", type=int, choices=BAUDS, default=19200, help="line speed (19200)")
            p.add_argument(
                "--timeout",
                type=float,
                default=0.05,
                metavar="S",
                help="reply slack beyond wire time, seconds (0.05; more for converters)",
            )
            p.add_argument(
                "--option",
                action="append",
                default=[],
                metavar="KEY=VALUE",
                help="a transport option (as in lines[].options), repeatable",
            )
            if name in ("scan", "poll"):
                p.add_argument(
                    "--addresses",
                    type=parse_range,
                    default=list(range(1, 248)),
                    metavar="A-B",
                    help="only these unit ids, e.g. 1-24,100 (default 1-247)",
                )
                p.add_argument("--json", action="store_true", help="print JSON instead of a table")
            if name == "poll":
                p.add_argument("--once", action="store_true", help="one cycle, then exit")
                p.add_argument(
                    "--interval",
                    type=float,
                    default=2.0,
                    metavar="S",
                    help="seconds between cycles without --once",
                )
            if name == "address":
                p.add_argument("--start", type=int, required=True, metavar="N", help="first id to assign")
                p.add_argument("--count", type=int, default=None, metavar="M", help="stop after M devices")
                p.add_argument(
                    "--wait",
                    type=float,
                    default=120.0,
                    metavar="S",
                    help="give up when no button is pressed for this long",
                )

    def run(self, args: argparse.Namespace) -> int:
        # stdout carries the results (JSON for scripts); what the master logs goes to stderr
        setup_logging("debug" if args.verbose else "warning", stream=sys.stderr)
        try:
            return asyncio.run(self._run(args))
        except OSError as e:
            print(f"cellgate bus: {e}", file=sys.stderr)
            return 1

    async def _run(self, args: argparse.Namespace) -> int:
        transport, drivers = self._open_parts(args)
        await transport.open()
        try:
            rtu = rtu_for(transport, args.baud, args.timeout)
            if args.bus_command == "address":
                found = await address_wizard(rtu, drivers, args.start, args.count, args.wait, _say)
                print(f"{len(found)} device(s) addressed")
                return 0
            found = await scan(rtu, drivers, args.addresses)
            if args.bus_command == "scan":
                self._print_scan(found, args.json)
                return 0
            ctx = _context()
            while True:
                rows = await poll_once(
                    transport, ctx, drivers, found, args.baud, BusSettings(cycle_s=0, timeout_s=args.timeout)
                )
                print(json.dumps(rows, indent=None if not args.json else 2) if args.json else _table(rows))
                sys.stdout.flush()
                if args.once:
                    return 0
                await asyncio.sleep(args.interval)
        finally:
            await transport.close()

    def _open_parts(self, args: argparse.Namespace) -> tuple[Transport, dict[str, type[PolledDriver]]]:
        from gateway.cli.common import plugins
        from gateway.core.config import url_scheme

        reg = plugins().registry
        scheme = url_scheme(args.url)
        cls = reg.get("transport", scheme)
        if cls is None:
            raise OSError(f"no transport for {scheme}:// (installed: {', '.join(reg.names('transport'))})")
        options: dict[str, Any] = {}
        for item in args.option:
            key, _, value = item.partition("=")
            options[key] = yaml_value(value)
        transport = cls(args.url, cls.Config.model_validate(options), _context())
        drivers = {n: c for n, c in reg.items("monitor").items() if issubclass(c, PolledDriver)}
        return transport, drivers

    @staticmethod
    def _print_scan(found: list[Any], as_json: bool) -> None:
        if as_json:
            print(json.dumps([f.to_json() for f in found]))
            return
        print(f"{'addr':>4}  {'model':<8} {'serial':>10}  {'firmware':<8} channels")
        for f in found:
            j = f.to_json()
            print(f"{j['address']:>4}  {j['model']:<8} {j['serial']:>10}  {j['firmware']:<8} {j['channels']}")
        print(f"{len(found)} device(s)")


def yaml_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _context() -> GatewayContext:
    return GatewayContext(RealClock(), CommandQueue(), EventBus(), Path.cwd(), Path.cwd())


def _say(text: str) -> None:
    print(text, flush=True)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        if "channels" in r:
            for c, ch in enumerate(r["channels"]):
                ri = f"{ch['ri_ohm'] * 1000:.2f} mΩ" if ch["ri_ohm"] is not None else "—"
                v = f"{ch['voltage_v']:.3f} V" if ch["voltage_v"] is not None else "—"
                t = f"{ch['temperature_c']:.1f} °C" if ch["temperature_c"] is not None else "—"
                lines.append(
                    f"{r['address']:>4}.{c} {r['model']:<7} {v:>10} {t:>9} Ri {ri:>10} "
                    f"duty {ch['equalize_duty']:.1%} {' '.join(ch['flags'])}"
                )
        else:
            rest = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("address", "model"))
            lines.append(f"{r['address']:>4}   {r['model']:<7} {rest}")
    return "\n".join(lines)
