"""An independent reference for expected register contents: plain Python and ``struct``.

The service encodes with numpy over whole tables; this walks one point at a time, so the
mbpoll tests compare two implementations rather than one with itself.
"""

from __future__ import annotations

import math
import struct

from gateway.core.model import Quality, Snapshot
from plugins.northbound_modbus.compiler import CompiledPoint
from plugins.northbound_modbus.sources import SiteState, scalar_value

PLAIN_UNIT_FIELDS = {"voltage_v", "temperature_c", "ri_ohm", "soc", "soh", "equalize_duty"}
NO_DATA_WORDS = {"int16": [0x8000], "uint16": [0xFFFF], "int32": [0x8000, 0], "uint32": [0xFFFF, 0xFFFF]}
LIMITS = {
    "int16": (-32767, 32767),
    "uint16": (0, 65534),
    "int32": (-(2**31) + 1, 2**31 - 1),
    "uint32": (0, 2**32 - 2),
}
FMT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f"}


def value_of(point: CompiledPoint, snap: Snapshot, now: float) -> float | None:
    ref = point.source
    if ref.kind == "unit" and ref.name in PLAIN_UNIT_FIELDS:
        try:
            unit = snap.strings[ref.string].units[ref.unit]
        except IndexError:
            return None
        if unit.quality in (Quality.COMM_LOST, Quality.NO_DATA):
            return None
        return getattr(unit, ref.name)
    if ref.kind == "string" and ref.name in (
        "voltage_v",
        "current_a",
        "ripple_a",
        "spread_v",
        "soc",
        "runtime_s",
    ):
        return getattr(snap.strings[ref.string], ref.name) if ref.string < len(snap.strings) else None
    value = scalar_value(ref, snap, SiteState(now, 60.0))  # derived flags and counts: one point at a time
    return None if math.isnan(value) else value


def expected(point: CompiledPoint, snap: Snapshot, now: float) -> list[int] | bool:
    """What mbpoll should read for ``point``: registers, or one bit."""
    value = value_of(point, snap, now)
    if point.data_type == "bool":
        return bool(value)
    if value is None:
        if point.data_type == "float32":
            words = list(struct.unpack(">HH", struct.pack(">f", math.nan)))
        else:
            words = list(NO_DATA_WORDS[point.data_type])
    else:
        raw = value * point.scale + point.offset
        if point.data_type != "float32":
            lo, hi = LIMITS[point.data_type]
            raw = min(max(round(raw), lo), hi)
        packed = struct.pack(">" + FMT[point.data_type], raw)
        words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    if point.word_order == "little":
        words.reverse()
    if point.byte_order == "little":
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words
