"""Core commands that live beside the code they drive: replay/cosim (engine), bus tools."""

from __future__ import annotations

from gateway.core.components import CliCommand


def extra_builtin_commands() -> list[type[CliCommand]]:
    cmds: list[type[CliCommand]] = []
    return cmds
