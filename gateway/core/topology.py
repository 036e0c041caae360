"""Where each battery is: the binding of string positions to monitor channels on lines.

Units are numbered 1..N in series; monitors follow at consecutive unit ids from
``first_address``; a three-channel (``…ex3``) monitor carries three consecutive units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.core.config import GatewayConfig, StringConfig


MAX_DEVICES_PER_LINE = 50  # the monitors' datasheet: cable and supply budget of one line
MAX_DEVICES = 512 + 64  # 512 monitors plus their current, ambient and I/O modules


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


KeyPath = tuple[str | int, ...]


def check_topology(root: GatewayConfig, line_names: list[str], at: Callable[[KeyPath, str], None]) -> None:
    """Every device on an existing line, no two on one address, at most 50 monitors a line."""
    used: dict[tuple[str, int], str] = {}

    def claim(bus: str, address: int, who: str, where: KeyPath) -> None:
        if bus not in line_names:
            at((*where, "bus"), f"{bus!r} is not a line; lines: {', '.join(line_names) or 'none'}")
            return
        if (bus, address) in used:
            at(where, f"address {address} on {bus} is already used by {used[(bus, address)]}")
        used[(bus, address)] = who

    for i, s in enumerate(root.strings):
        for address in monitors_of_string(s):
            if address > 246:
                at(("strings", i, "units", "count"), f"monitors would run past address 246 (to {address})")
                break
            claim(s.units.bus, address, f"strings[{i}] ({s.name})", ("strings", i, "units"))
        if s.current_sensor:
            claim(
                s.current_sensor.bus,
                s.current_sensor.address,
                f"strings[{i}].current_sensor",
                ("strings", i, "current_sensor"),
            )
    for name in ("ambient", "aux"):
        ref = getattr(root.sensors, name)
        if ref:
            claim(ref.bus, ref.address, f"sensors.{name}", ("sensors", name))
    for j, line in enumerate(root.lines):
        n = sum(1 for (bus, _a) in used if bus == line.name)
        if n > MAX_DEVICES_PER_LINE:
            at(
                ("lines", j),
                f"{n} devices on one line; the monitors support at most "
                f"{MAX_DEVICES_PER_LINE} per line (use another line or converter)",
            )
    if len(used) > MAX_DEVICES:
        at(("strings",), f"{len(used)} devices: one gateway drives at most {MAX_DEVICES}")
