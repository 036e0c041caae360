"""The core's own commands: run, check, schema, plugins."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway import __version__
from gateway.cli.common import add_config_argument, config_path, load_or_exit, plugins
from gateway.core.components import CliCommand


class RunCommand(CliCommand):
    name = "run"
    help = "run the gateway (stops cleanly on Ctrl-C / SIGTERM)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_config_argument(parser)
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="run simulated time this many times faster than real time (simulator only; default 1)",
        )
        parser.add_argument(
            "--log-format", choices=["console", "json"], default=None, help="override logging.format"
        )
        parser.add_argument(
            "--log-level",
            choices=["debug", "info", "warning", "error"],
            default=None,
            help="override logging.level",
        )

    def run(self, args: argparse.Namespace) -> int:
        from gateway.core.clock import RealClock, ScaledClock
        from gateway.core.logging import setup_logging
        from gateway.core.runtime import run_gateway

        loaded = load_or_exit(args)
        lg = loaded.root.logging
        setup_logging(args.log_level or lg.level, args.log_format or lg.format, lg.levels)
        if args.speed <= 0:
            print("cellgate: --speed must be > 0", file=sys.stderr)
            return 2
        if args.speed != 1.0 and any(ln.scheme != "sim" for ln in loaded.root.lines):
            print(
                "cellgate: --speed is only for simulated lines (sim://); real monitors run in real time",
                file=sys.stderr,
            )
            return 2
        clock = ScaledClock(args.speed) if args.speed != 1.0 else RealClock()
        return asyncio.run(run_gateway(loaded, plugins(), clock))


class CheckCommand(CliCommand):
    name = "check"
    help = "validate a config file without starting anything"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default=None, help="the file (default: as -c)")
        add_config_argument(parser)

    def run(self, args: argparse.Namespace) -> int:
        if args.file:
            args.config = args.file
        loaded = load_or_exit(args)
        root = loaded.root
        units = sum(s.units.count for s in root.strings)
        print(
            f"{config_path(args)}: OK — site {root.site.name!r}: {len(root.strings)} strings, "
            f"{units} units, {len(root.lines)} lines, services: "
            f"{', '.join(n for n, _ in loaded.services) or 'none'}"
        )
        return 0


class SchemaCommand(CliCommand):
    name = "schema"
    help = "print the JSON Schema of the config file, including installed plugins"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--indent", type=int, default=2)

    def run(self, args: argparse.Namespace) -> int:
        from gateway.core.schema import config_schema

        print(json.dumps(config_schema(plugins()), indent=args.indent))
        return 0


class PluginsCommand(CliCommand):
    name = "plugins"
    help = "list plugins, their versions, the hooks each implements and what each registers"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, args: argparse.Namespace) -> int:
        infos = plugins().info.values()
        rows: list[dict[str, Any]] = [
            {
                "name": i.name,
                "distribution": i.distribution,
                "version": i.version,
                "module": i.module,
                "hooks": i.hooks,
                "registers": [
                    {"kind": r.kind, "name": r.name, "class": f"{r.cls.__module__}.{r.cls.__qualname__}"}
                    for r in i.registers
                ],
            }
            for i in infos
        ]
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print(f"cellgate {__version__}: {len(rows)} plugins")
        for row in rows:
            print(f"\n{row['name']}  ({row['distribution'] or 'local'} {row['version']}, {row['module']})")
            print(f"  hooks: {', '.join(h.removeprefix('cellgate_') for h in row['hooks']) or 'none'}")
            by_kind: dict[str, list[str]] = {}
            for r in row["registers"]:
                by_kind.setdefault(r["kind"], []).append(r["name"])
            for kind, names in by_kind.items():
                print(f"  {kind}: {', '.join(names)}")
        return 0


BUILTIN_COMMANDS: list[type[CliCommand]] = [RunCommand, CheckCommand, SchemaCommand, PluginsCommand]
