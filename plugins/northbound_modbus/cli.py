"""``cellgate modbus map [--csv]``: the effective register map, for the OT engineer's documentation.

The map is the one the config's ``modbus`` service serves (the default map otherwise),
expanded for the config's strings; ``--units`` shows it for another layout without a config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.core.components import CliCommand
from plugins.northbound_modbus.compiler import Layout, MapCompileError
from plugins.northbound_modbus.config import ModbusServiceConfig
from plugins.northbound_modbus.mapfile import DEFAULT_MAP, MapFileError
from plugins.northbound_modbus.service import load_and_compile, map_path


def _units(text: str) -> Layout:
    try:
        counts = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("--units takes unit counts per string, e.g. 24,24") from None
    if not counts or any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError("--units takes positive unit counts per string, e.g. 24,24")
    return Layout(counts)


class ModbusCommand(CliCommand):
    name = "modbus"
    help = "Modbus tools: print the effective register map (map [--csv])"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        from gateway.cli.common import add_config_argument

        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("map", help="print the effective register map as a table, or CSV")
        show.add_argument(
            "--csv",
            action="store_true",
            help="CSV with the columns function,address,"
            "data_type,byte_order,word_order,scale,offset,source,unit",
        )
        show.add_argument("--map", type=Path, default=None, help="this map file instead of the service's")
        show.add_argument(
            "--units",
            type=_units,
            default=None,
            metavar="N[,N...]",
            help="units per string (no config needed): show --map, else the default map, for this layout",
        )
        add_config_argument(show)

    def run(self, args: argparse.Namespace) -> int:
        try:
            path, layout = self._resolve(args)
            compiled = load_and_compile(path, layout)
        except (MapFileError, MapCompileError) as e:
            print(f"cellgate: {e}", file=sys.stderr)
            return 2
        sys.stdout.write(compiled.csv() if args.csv else compiled.table())
        return 0

    @staticmethod
    def _resolve(args: argparse.Namespace) -> tuple[Path, Layout]:
        """The map file and layout: command-line options first, then the config's modbus service."""
        if args.units is not None:
            return args.map or DEFAULT_MAP, args.units
        from gateway.cli.common import load_or_exit

        loaded = load_or_exit(args)
        service = next((cfg for kind, cfg in loaded.services if kind == "modbus"), None)
        if not isinstance(service, ModbusServiceConfig):
            service = ModbusServiceConfig()

        def resolve(p: str) -> Path:
            q = Path(p).expanduser()
            return q if q.is_absolute() else (loaded.config_dir / q).resolve()

        path = args.map or map_path(service, resolve)
        return path, args.units or Layout.from_config(loaded)
