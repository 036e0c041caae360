"""The generic register-map driver: third-party Modbus RTU battery monitors and BMSs described in YAML.

A map names each point's function, address, data type, byte and word order, scale, offset
and unit; the driver reads one request per contiguous block, never more registers per
request than the device allows, pausing between requests as the map says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymodbus.client.mixin import ModbusClientMixin

from gateway.core.bus.driver import DecodeError, PolledDriver, ReadBlock, Reading
from gateway.core.model import ChannelReading, Quality, SensorReading

DataType = Literal["int16", "uint16", "int32", "uint32", "float32", "bits"]
WORDS = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "bits": 1}
PYMODBUS_TYPE = {
    "int16": ModbusClientMixin.DATATYPE.INT16,
    "uint16": ModbusClientMixin.DATATYPE.UINT16,
    "int32": ModbusClientMixin.DATATYPE.INT32,
    "uint32": ModbusClientMixin.DATATYPE.UINT32,
    "float32": ModbusClientMixin.DATATYPE.FLOAT32,
}
#: point names that fill a ChannelReading's fields when the point names a channel
CHANNEL_FIELDS = ("voltage_v", "temperature_c", "ri_ohm", "duty", "bypass_current_a")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Point(_Model):
    """One value of the device."""

    name: str = Field(
        description="Name in the reading (voltage_v, temperature_c, ri_ohm, duty, "
        "bypass_current_a fill a channel reading; any other name a generic value)."
    )
    function: Literal[1, 2, 3, 4] = Field(
        3, description="Modbus read function: 1 coils, 2 discrete inputs, 3 holding, 4 input registers."
    )
    address: int = Field(ge=0, le=65535, description="First register (or bit), numbered from 0.")
    type: DataType = Field("uint16", description="Data type; bits = a 16-bit word of named flags.")
    byte_order: Literal["big", "little"] | None = Field(
        None, description="Byte order inside a word; default: the map's."
    )
    word_order: Literal["big", "little"] | None = Field(
        None, description="Order of the two words of a 32-bit value; default: the map's."
    )
    scale: float = Field(1.0, description="value = raw × scale + offset.")
    offset: float = Field(0.0, description="Added after scaling.")
    unit: str = Field("", description="Unit of the scaled value, for people reading the map.")
    channel: int | None = Field(None, ge=0, le=255, description="Battery channel this point belongs to.")
    bits: dict[int, str] = Field(default_factory=dict, description="type bits: bit number → flag name.")

    @property
    def words(self) -> int:
        return 1 if self.function in (1, 2) else WORDS[self.type]


class RegisterMap(_Model):
    """A whole device map."""

    device: str = Field(description="The device this map describes (maker and model).")
    max_registers_per_request: int = Field(
        125, ge=1, le=125, description="Longest read the device accepts; longer blocks are split."
    )
    pause_s: float = Field(0.0, ge=0, le=2.0, description="Real-time pause between two requests.")
    byte_order: Literal["big", "little"] = Field("big", description="Default byte order inside a word.")
    word_order: Literal["big", "little"] = Field("big", description="Default order of 32-bit words.")
    gap_fill: int = Field(
        0,
        ge=0,
        le=16,
        description="Read across gaps up to this many registers "
        "to save requests (only if the device answers for them).",
    )
    points: list[Point] = Field(min_length=1, description="The values to read.")

    @model_validator(mode="after")
    def _unique(self) -> RegisterMap:
        names = [(p.channel, p.name) for p in self.points]
        if len(set(names)) != len(names):
            raise ValueError("two points have the same name (and channel)")
        return self


def load_map(options: Mapping[str, Any], base_dir: Path) -> RegisterMap:
    """The map from ``options``: ``{map: path.yaml}`` (relative to the config folder) or inline keys."""
    if "map" in options:
        path = Path(str(options["map"]))
        path = path if path.is_absolute() else base_dir / path
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        return RegisterMap.model_validate(data)
    return RegisterMap.model_validate(dict(options))


def plan_blocks(points: Sequence[Point], max_count: int, gap_fill: int = 0) -> list[ReadBlock]:
    """One read per contiguous run of addresses per function, split at ``max_count``."""
    blocks: list[ReadBlock] = []
    for fn in sorted({p.function for p in points}):
        spans = sorted((p.address, p.address + p.words) for p in points if p.function == fn)
        start, end = spans[0]
        for a, b in spans[1:]:
            if a <= end + gap_fill and b - start <= max_count:
                end = max(end, b)
            else:
                blocks.append(ReadBlock(fn, start, end - start))
                start, end = a, b
        blocks.append(ReadBlock(fn, start, end - start))
    for b in blocks:
        if b.count > max_count:
            raise ValueError(
                f"a point at {b.address} needs {b.count} registers, more than the device's "
                f"limit of {max_count}"
            )
    return blocks


def decode_point(p: Point, words: Sequence[int], m: RegisterMap) -> tuple[float | None, set[str]]:
    """A point's scaled value (None for bits) and the flags it raises."""
    if p.function in (1, 2):
        return float(bool(words[0])) * p.scale + p.offset, set()
    raw = list(words[: p.words])
    if (p.byte_order or m.byte_order) == "little":
        raw = [((w & 0xFF) << 8) | (w >> 8) for w in raw]
    if p.type == "bits":
        return None, {name for bit, name in p.bits.items() if raw[0] >> bit & 1}
    value = ModbusClientMixin.convert_from_registers(
        raw, PYMODBUS_TYPE[p.type], word_order=p.word_order or m.word_order
    )
    assert isinstance(value, int | float)
    return float(value) * p.scale + p.offset, set()


class GenericMapDriver(PolledDriver):
    """Any Modbus device, read through a YAML register map (``units.options.map``)."""

    model: ClassVar[str] = "generic"
    code: ClassVar[int] = 0
    kind: ClassVar[str] = "generic"
    has_identity: ClassVar[bool] = False
    measures_on_broadcast: ClassVar[bool] = False
    summary: ClassVar[str] = "third-party Modbus device described by a YAML register map"

    def __init__(self, options: Mapping[str, Any] | None = None, base_dir: Path | None = None) -> None:
        super().__init__(options, base_dir)
        self.map = load_map(self.options, self.base_dir)
        self._blocks = plan_blocks(self.map.points, self.map.max_registers_per_request, self.map.gap_fill)
        ch = {p.channel for p in self.map.points if p.channel is not None}
        self.channel_numbers = sorted(ch)

    @property
    def request_pause_s(self) -> float:
        return self.map.pause_s

    def read_plan(self) -> list[ReadBlock]:
        return list(self._blocks)

    def decode(self, blocks: Sequence[Sequence[int]], bus: str, address: int, time: float) -> list[Reading]:
        if len(blocks) != len(self._blocks):
            raise DecodeError(f"{len(blocks)} replies for {len(self._blocks)} reads")
        per_channel: dict[int, dict[str, Any]] = {c: {} for c in self.channel_numbers}
        flags: dict[int | None, set[str]] = {}
        values: dict[str, Any] = {}
        for p in self.map.points:
            words = self._words_of(p, blocks)
            value, raised = decode_point(p, words, self.map)
            flags.setdefault(p.channel, set()).update(raised)
            if value is None:
                continue
            if p.channel is not None and p.name in CHANNEL_FIELDS:
                per_channel[p.channel][p.name] = value
            else:
                values[p.name if p.channel is None else f"{p.name}[{p.channel}]"] = value
        out: list[Reading] = [
            ChannelReading(
                bus,
                address,
                c,
                time,
                f.get("voltage_v"),
                f.get("temperature_c"),
                f.get("ri_ohm"),
                None,
                f.get("duty", 0.0),
                f.get("bypass_current_a", 0.0),
                frozenset(flags.get(c, set())),
                Quality.GOOD,
            )
            for c, f in per_channel.items()
        ]
        if values or flags.get(None):
            out.append(
                SensorReading(bus, address, self.kind, time, values, frozenset(flags.get(None, set())))
            )
        return out

    def _words_of(self, p: Point, blocks: Sequence[Sequence[int]]) -> list[int]:
        for b, data in zip(self._blocks, blocks, strict=True):
            if (
                b.function == p.function
                and b.address <= p.address
                and p.address + p.words <= b.address + b.count
            ):
                off = p.address - b.address
                got = list(data[off : off + p.words])
                if len(got) != p.words:
                    raise DecodeError(f"point {p.name}: short reply")
                return got
        raise DecodeError(f"point {p.name}: not in any read")
