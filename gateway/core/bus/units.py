"""What a bus master knows per device (binding, health, pending writes) and what a cycle hands back.

``bindings_for_line`` turns the root config's strings and sensors into the list of devices
one line's master polls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.core.bus.driver import Identity, PolledDriver, Reading
from gateway.core.events import Event
from gateway.core.model import DeviceStats, LineStats


@dataclass(frozen=True)
class MonitorBinding:
    """One device the config puts at ``address`` of a line."""

    address: int
    model: str
    expected_serial: int | None = None
    #: per-device driver options (the generic driver's register map)
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class IdentityProblem:
    """A device that is not what the config says (wrong model, serial or channel count)."""

    address: int
    expected: str
    found: str


#: per-device statistics are part of the snapshot, so their type lives in the model
UnitStats = DeviceStats


@dataclass(frozen=True)
class CycleResult:
    """Everything one cycle of one line produced, handed to the engine."""

    line: str
    time: float
    readings: list[Reading]
    comm_lost: frozenset[int]
    identity_problems: list[IdentityProblem]
    events: list[Event]
    unit_stats: dict[int, UnitStats]
    line_stats: LineStats
    duration_s: float = 0.0


@dataclass
class UnitState:
    """The master's mutable record of one bound device."""

    binding: MonitorBinding
    driver: PolledDriver
    identity: Identity | None = None
    identity_ok: bool | None = None  # None: not checked since (re)joining
    failures: int = 0
    comm_lost: bool = False
    ever_answered: bool = False
    skipped_cycles: int = 0
    last_ok_time: float | None = None
    last_seq: int | None = None
    last_flags: frozenset[str] = frozenset()
    # bypass: what the engine wants, what the monitor was last told and when (gateway clock)
    wanted_duties: list[float] = field(default_factory=list)
    written_duties: list[float] | None = None
    bypass_written_at: float = -math.inf
    watchdog_written: bool = False
    # Ri schedule (gateway clock)
    ri_due: float = math.inf
    ri_requested: bool = False
    ri_busy_until: float = -math.inf
    ri_started_once: bool = False
    # relays: wanted vs last written
    wanted_relays: dict[int, bool] = field(default_factory=dict)
    written_relays: dict[int, bool] = field(default_factory=dict)
    #: gateway clock of each relay's last write: ON relays are refreshed before HR10 expires them
    relay_written_at: dict[int, float] = field(default_factory=dict)
    relay_timeout_written: bool = False

    @property
    def address(self) -> int:
        return self.binding.address

    @property
    def usable(self) -> bool:
        """Answering and the device the config names: its readings count, writes may go."""
        return not self.comm_lost and self.identity_ok is not False and self.ever_answered

    def rejoin(self) -> None:
        """Forget what the monitor was told: after comm loss it may have rebooted."""
        self.identity_ok = None
        self.written_duties = None
        self.watchdog_written = False
        self.written_relays.clear()
        self.relay_timeout_written = False
        self.last_seq = None


def _channels_of(model: str, drivers: Mapping[str, type[PolledDriver]] | None) -> int:
    cls = drivers.get(model) if drivers else None
    if cls is not None:
        return max(1, int(cls.channels))
    return 3 if model.endswith("ex3") else 1


def bindings_for_line(
    config: Any, line_name: str, drivers: Mapping[str, type[PolledDriver]] | None = None
) -> list[MonitorBinding]:
    """Every device the root config puts on ``line_name``, in address order.

    A string of N units on a model with k channels occupies ``ceil(N / k)`` consecutive
    addresses from ``first_address``; ``units.serials`` (if given) are expected in that order.
    """
    out: list[MonitorBinding] = []
    for s in getattr(config, "strings", []) or []:
        units = s.units
        if units.bus == line_name:
            n = math.ceil(units.count / _channels_of(units.model, drivers))
            serials = list(getattr(units, "serials", None) or [])
            options = dict(getattr(units, "options", None) or {})
            for i in range(n):
                serial = serials[i] if i < len(serials) else None
                out.append(MonitorBinding(units.first_address + i, units.model, serial, options))
        cs = getattr(s, "current_sensor", None)
        if cs is not None and cs.bus == line_name:
            out.append(MonitorBinding(cs.address, "CS"))
    sensors = getattr(config, "sensors", None)
    for attr, model in (("ambient", "THS"), ("aux", "AUX")):
        ref = getattr(sensors, attr, None) if sensors is not None else None
        if ref is not None and ref.bus == line_name:
            out.append(MonitorBinding(ref.address, model))
    return sorted(out, key=lambda b: b.address)
