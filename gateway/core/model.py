"""The canonical battery data model: what a reading is, and the frozen views northbound reads.

SI units inside, unit in every field name (``voltage_v``, ``ri_ohm``); fractions are 0–1.
Drivers produce :class:`ChannelReading` and :class:`SensorReading`; the engine folds them
into per-string state and publishes a :class:`Snapshot`, which nobody else may change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Quality(enum.StrEnum):
    """How far a value can be trusted; every reading and every published value carries one."""

    GOOD = "good"
    STALE = "stale"  # older than the poll period allows, not refreshed yet
    COMM_LOST = "comm_lost"  # its monitor stopped answering: the value is not current
    OUT_OF_RANGE = "out_of_range"  # the monitor clipped it to its range limit
    NO_DATA = "no_data"  # never measured since start


class StringMode(enum.StrEnum):
    """What the charger and the load are doing to a string."""

    FLOAT = "float"
    CHARGE = "charge"
    DISCHARGE = "discharge"
    REST = "rest"
    UNKNOWN = "unknown"


class Chemistry(enum.StrEnum):
    """Battery chemistries the engine has parameters for."""

    VRLA = "vrla"  # valve-regulated lead-acid (AGM, gel)
    VLA = "vla"  # vented (flooded) lead-acid
    LFP = "lfp"
    LTO = "lto"
    NICD = "nicd"


@dataclass(frozen=True, slots=True)
class ChannelReading:
    """One battery's measurement as a block monitor reports it, decoded to SI units."""

    bus: str
    address: int
    channel: int
    time: float
    voltage_v: float | None
    temperature_c: float | None
    ri_ohm: float | None  # None: not measured yet
    ri_age_s: float | None
    duty: float  # bypass duty actually applied, 0–1
    bypass_current_a: float
    flags: frozenset[str] = frozenset()  # e.g. {"voltage_over_range", "fuse_open"}
    quality: Quality = Quality.GOOD
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class SensorReading:
    """A string current sensor, ambient sensor or I/O module sample, decoded to SI units."""

    bus: str
    address: int
    kind: str  # "current", "ambient", "io"
    time: float
    values: dict[str, Any]  # current_a, ripple_a | temperature_c, humidity_pct | inputs, relays
    flags: frozenset[str] = frozenset()
    quality: Quality = Quality.GOOD


@dataclass(frozen=True, slots=True)
class UnitView:
    """One battery as northbound sees it."""

    string: int  # index of the string in the site
    position: int  # 1..N in series
    model: str
    bus: str
    address: int
    channel: int
    voltage_v: float | None
    temperature_c: float | None
    ri_ohm: float | None
    ri_baseline_ohm: float | None
    soc: float | None
    soh: float | None
    psoc: bool
    equalize_duty: float
    status: str  # "ok", "warning", "alarm", "comm_lost", ...
    quality: Quality
    updated_at: float | None
    #: flags of the latest reading: "fuse_open", "temperature_sensor_fault", "identity_mismatch", ...
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StringView:
    """One series string as northbound sees it."""

    index: int
    name: str
    chemistry: str
    voltage_v: float | None
    current_a: float | None  # positive = charging
    ripple_a: float | None
    spread_v: float | None
    soc: float | None
    runtime_s: float | None  # only while discharging
    mode: StringMode
    units: tuple[UnitView, ...]
    #: the string current is beyond its sensor's range: ``current_a`` is the range limit
    current_over_range: bool = False


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An alarm that is active or not yet acknowledged."""

    id: int
    code: str
    level: str  # "warning" | "alarm"
    source: str  # "site", "strings[0]", "strings[0].units[3]", "lines[bus1]"
    message: str
    raised_at: float
    cleared_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceStats:
    """Health of one device on a line, as its bus master counts it."""

    address: int
    model: str
    state: str  # "ok", "comm_lost", "identity_mismatch", "unknown" (never answered yet)
    requests: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    latency_ms: float | None = None
    consecutive_failures: int = 0
    last_ok_time: float | None = None
    serial: int | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class LineStats:
    """Health of one RS-485 line, as its bus master counts it."""

    name: str
    url: str
    state: str  # "up", "reconnecting", "down"
    requests: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    latency_ms: float | None = None
    cycle_s: float | None = None
    units_comm_lost: int = 0
    devices: tuple[DeviceStats, ...] = ()  # per device on the line, in address order


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole site at one instant. Immutable; a new version replaces it every cycle.

    Northbound services hold a reference to the latest one and never wait on the bus.
    """

    version: int
    time: float
    site_name: str
    strings: tuple[StringView, ...] = ()
    ambient_c: float | None = None
    humidity_pct: float | None = None
    alarms: tuple[AlarmView, ...] = ()
    lines: tuple[LineStats, ...] = ()
    relays: tuple[bool, ...] = ()
    inputs: tuple[bool, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def units(self) -> tuple[UnitView, ...]:
        """Every unit of every string, in site order."""
        return tuple(u for s in self.strings for u in s.units)


EMPTY_SNAPSHOT = Snapshot(version=0, time=0.0, site_name="")
