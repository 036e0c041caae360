"""Core commands that live beside the code they drive: replay/cosim (engine), the bus tools."""

from __future__ import annotations

from gateway.core.bus.cli import BusCommand
from gateway.core.components import CliCommand
from gateway.core.engine.cosim import CosimCommand
from gateway.core.engine.replay import ReplayCommand


def extra_builtin_commands() -> list[type[CliCommand]]:
    return [ReplayCommand, CosimCommand, BusCommand]
