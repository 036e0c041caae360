"""Where each battery is: the binding of string positions to monitor channels on lines.

Units are numbered 1..N in series; monitors follow at consecutive unit ids from
``first_address``; a three-channel (``…ex3``) monitor carries three consecutive units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.core.config import GatewayConfig, StringConfig


def channels_for_model(model: str) -> int:
    """Channels of a monitor model: the ATEX ``…ex3`` models measure three units."""
    return 3 if model.lower().endswith("ex3") else 1


@dataclass(frozen=True, slots=True)
class UnitBinding:
    """One battery: its place in the site and the monitor channel that measures it."""

    string: int
    position: int  # 1..N
    model: str
    bus: str
    address: int
    channel: int


def monitors_of_string(s: StringConfig) -> list[int]:
    """Unit ids of the monitors of one string, in position order."""
    per = channels_for_model(s.units.model)
    n_monitors = -(-s.units.count // per)
    return [s.units.first_address + k for k in range(n_monitors)]


def unit_bindings(config: GatewayConfig) -> list[list[UnitBinding]]:
    """Per string, the binding of every position."""
    out = []
    for i, s in enumerate(config.strings):
        per = channels_for_model(s.units.model)
        out.append(
            [
                UnitBinding(i, p + 1, s.units.model, s.units.bus, s.units.first_address + p // per, p % per)
                for p in range(s.units.count)
            ]
        )
    return out
