"""Register images: the four Modbus tables filled from one snapshot, built in a few numpy passes.

The compiled map is turned once into index arrays (which value goes to which address, in
which encoding); each new snapshot then costs one column gather per unit field and one
vectorised encode per data-type group. Reads are answered by slicing these arrays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.core.model import Snapshot
from plugins.northbound_modbus.compiler import BIT_FUNCTIONS, CompiledMap
from plugins.northbound_modbus.encoding import encode
from plugins.northbound_modbus.mapfile import FUNCTIONS
from plugins.northbound_modbus.sources import (
    NO_DATA_QUALITIES,
    UNIT_FIELDS,
    SiteState,
    SourceRef,
    scalar_value,
)

SPACE = 65536
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class _UnitGroup:
    value_index: IntArray
    string: IntArray
    unit: IntArray


@dataclass
class _RegisterGroup:
    data_type: str
    byte_order: str
    word_order: str
    address: IntArray
    value_index: IntArray
    scale: FloatArray
    offset: FloatArray


@dataclass
class Images:
    """The four tables as served: values and which addresses are mapped."""

    registers: dict[str, npt.NDArray[np.uint16]]  # holding_register, input_register
    bits: dict[str, npt.NDArray[np.bool_]]  # coil, discrete_input
    mapped: dict[str, npt.NDArray[np.bool_]]  # per table: True where an address is mapped


class ImageBuilder:
    """Builds :class:`Images` from snapshots for one compiled map."""

    def __init__(self, compiled: CompiledMap, *, holding_mirrors_input: bool) -> None:
        self.compiled = compiled
        self.holding_mirrors_input = holding_mirrors_input
        refs: dict[SourceRef, int] = {}
        for p in compiled.points:
            refs.setdefault(p.source, len(refs))
        self._n_values = len(refs)
        unit_parts: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self._scalars: list[tuple[int, SourceRef]] = []
        for ref, k in refs.items():
            if ref.kind == "unit":
                unit_parts[ref.name].append((k, ref.string, ref.unit))
            else:
                self._scalars.append((k, ref))
        self._unit_groups = {
            name: _UnitGroup(*(np.array(col, dtype=np.int64) for col in zip(*parts, strict=True)))
            for name, parts in unit_parts.items()
        }
        self._register_groups: dict[str, list[_RegisterGroup]] = {}
        self._bit_groups: dict[str, tuple[IntArray, IntArray]] = {}
        self._mapped: dict[str, npt.NDArray[np.bool_]] = {}
        for function in FUNCTIONS:
            points = compiled.of(function)
            mapped = np.zeros(SPACE, dtype=bool)
            for p in points:
                mapped[p.address : p.address + p.width] = True
            self._mapped[function] = mapped
            if function in BIT_FUNCTIONS:
                self._bit_groups[function] = (
                    np.array([p.address for p in points], dtype=np.int64),
                    np.array([refs[p.source] for p in points], dtype=np.int64),
                )
                continue
            by_encoding: dict[tuple[str, str, str], list[int]] = defaultdict(list)
            for i, p in enumerate(points):
                by_encoding[(p.data_type, p.byte_order, p.word_order)].append(i)
            self._register_groups[function] = [
                _RegisterGroup(
                    dt,
                    bo,
                    wo,
                    np.array([points[i].address for i in idx], dtype=np.int64),
                    np.array([refs[points[i].source] for i in idx], dtype=np.int64),
                    np.array([points[i].scale for i in idx], dtype=np.float64),
                    np.array([points[i].offset for i in idx], dtype=np.float64),
                )
                for (dt, bo, wo), idx in by_encoding.items()
            ]
        if holding_mirrors_input:
            self._mapped["holding_register"] = (
                self._mapped["holding_register"] | self._mapped["input_register"]
            )

    def values(self, snap: Snapshot, site: SiteState) -> FloatArray:
        """Every source's value in engineering units; NaN where there is no current value."""
        out = np.full(self._n_values, np.nan)
        if self._unit_groups:
            units = [u for s in snap.strings for u in s.units]
            counts = np.array([len(s.units) for s in snap.strings] or [0], dtype=np.int64)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            lost = np.fromiter((u.quality in NO_DATA_QUALITIES for u in units), dtype=bool, count=len(units))
            for name, g in self._unit_groups.items():
                getter, measured = UNIT_FIELDS[name]
                column = np.fromiter((getter(u) for u in units), dtype=np.float64, count=len(units))
                if measured:
                    column[lost] = np.nan
                valid = g.string < len(snap.strings)
                valid[valid] = g.unit[valid] < counts[g.string[valid]]
                out[g.value_index[valid]] = column[starts[g.string[valid]] + g.unit[valid]]
        for k, ref in self._scalars:
            out[k] = scalar_value(ref, snap, site)
        return out

    def build(self, snap: Snapshot, site: SiteState) -> Images:
        """The four tables for ``snap``."""
        values = self.values(snap, site)
        registers: dict[str, npt.NDArray[np.uint16]] = {}
        for function in ("input_register", "holding_register"):
            image = np.zeros(SPACE, dtype=np.uint16)
            if function == "holding_register" and self.holding_mirrors_input:
                image[:] = registers["input_register"]
            for g in self._register_groups[function]:
                regs = encode(
                    values[g.value_index], g.scale, g.offset, g.data_type, g.byte_order, g.word_order
                )
                for k in range(regs.shape[1]):
                    image[g.address + k] = regs[:, k]
            registers[function] = image
        bits: dict[str, npt.NDArray[np.bool_]] = {}
        for function in BIT_FUNCTIONS:
            image_b = np.zeros(SPACE, dtype=bool)
            address, value_index = self._bit_groups[function]
            v = values[value_index]
            image_b[address] = np.nan_to_num(v, nan=0.0) != 0
            bits[function] = image_b
        return Images(registers, bits, self._mapped)
