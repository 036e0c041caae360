"""Entry point of the ``cellgate`` command."""

from __future__ import annotations

import argparse
import os
import sys

from gateway import __version__
from gateway.cli.builtin import BUILTIN_COMMANDS
from gateway.cli.common import plugins
from gateway.core.components import CliCommand
from gateway.plugins import PluginError


def builtin_commands() -> list[type[CliCommand]]:
    """The core's commands, including the engine's and the bus tools when present."""
    cmds = list(BUILTIN_COMMANDS)
    from gateway.cli.extra import extra_builtin_commands

    cmds.extend(extra_builtin_commands())
    return cmds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellgate",
        description="cellgate — open battery management gateway. Every command that needs a config "
        "takes -c/--config FILE (default: $CELLGATE_CONFIG, else config/cellgate.yaml).",
    )
    parser.add_argument("--version", action="version", version=f"cellgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen: dict[str, str] = {}
    commands: list[tuple[str, type[CliCommand], str]] = [(c.name, c, "core") for c in builtin_commands()]
    reg = plugins().registry
    for name in reg.names("cli"):
        cls = reg.get("cli", name)
        assert cls is not None
        owner = next(
            i.name for i in plugins().info.values() for r in i.registers if r.kind == "cli" and r.name == name
        )
        commands.append((name, cls, owner))
    for name, cls, owner in commands:
        if name in seen:
            raise PluginError(f"command {name!r} of {owner} clashes with the one of {seen[name]}")
        seen[name] = owner
        cmd = cls()
        p = sub.add_parser(name, help=cls.help, description=cls.help)
        cmd.configure(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except PluginError as e:
        print(f"cellgate: {e}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not getattr(args, "_command", None):
        parser.print_help()
        return 2
    try:
        return int(args._command.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `cellgate plugins | head`: the reader left; end quietly, as Unix tools do (Python docs'
        # recipe: point stdout at devnull so the interpreter's final flush cannot fail again)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except PluginError as e:
        print(f"cellgate: {e}", file=sys.stderr)
        return 2
