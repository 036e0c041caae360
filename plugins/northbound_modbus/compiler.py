"""The map compiler: a YAML map and the site's layout become a flat, checked list of points.

Templates are expanded (element n at base + n × stride), sources are parsed, defaults are
filled in, and overlapping points are refused, so serving and documenting read one list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugins.northbound_modbus.encoding import WIDTH
from plugins.northbound_modbus.mapfile import (
    FUNCTIONS,
    PointSpec,
    RegisterMap,
    Template,
    TemplatePoint,
    WriteSpec,
)
from plugins.northbound_modbus.sources import SourceError, SourceRef, parse_source

CSV_COLUMNS = (
    "function",
    "address",
    "data_type",
    "byte_order",
    "word_order",
    "scale",
    "offset",
    "source",
    "unit",
)
BIT_FUNCTIONS = ("coil", "discrete_input")


@dataclass(frozen=True, slots=True)
class Layout:
    """How many units each string has: what templates expand over."""

    units_per_string: tuple[int, ...]

    @classmethod
    def from_config(cls, root: Any) -> Layout:
        """From the gateway config (``strings[i].units.count``)."""
        return cls(tuple(int(s.units.count) for s in root.strings))


@dataclass(frozen=True, slots=True)
class CompiledPoint:
    """One mapped value at its final address, everything defaulted."""

    function: str
    address: int
    data_type: str  # "bool" for coils and discrete inputs
    byte_order: str
    word_order: str
    scale: float
    offset: float
    source: SourceRef
    unit: str
    description: str
    write: WriteSpec | None

    @property
    def width(self) -> int:
        return 1 if self.data_type == "bool" else WIDTH[self.data_type]

    def row(self) -> dict[str, Any]:
        """The point as one row of ``cellgate modbus map --csv``."""
        bits = self.data_type == "bool"
        return {
            "function": self.function,
            "address": self.address,
            "data_type": self.data_type,
            "byte_order": "" if bits else self.byte_order,
            "word_order": self.word_order if self.width == 2 else "",
            "scale": _fmt(self.scale),
            "offset": _fmt(self.offset),
            "source": self.source.path,
            "unit": self.unit,
        }


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


class MapCompileError(ValueError):
    """A map that cannot be served: overlapping points, addresses past 65535, bad sources."""


@dataclass(frozen=True)
class CompiledMap:
    """Every point of a map, sorted by table then address."""

    name: str
    points: tuple[CompiledPoint, ...]

    def of(self, function: str) -> list[CompiledPoint]:
        return [p for p in self.points if p.function == function]

    def csv(self) -> str:
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        w.writeheader()
        for p in self.points:
            w.writerow(p.row())
        return out.getvalue()

    def table(self) -> str:
        """A fixed-width table for people (same columns as the CSV, plus writability)."""
        rows = [dict(p.row(), write=p.write.command if p.write else "") for p in self.points]
        cols = [*CSV_COLUMNS, "write"]
        widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in cols}
        lines = ["  ".join(c.ljust(widths[c]) for c in cols).rstrip()]
        lines.append("  ".join("-" * widths[c] for c in cols))
        lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip() for r in rows]
        return "\n".join(lines) + "\n"


def _source_in_element(text: str, string: int, unit: int | None, where: str) -> SourceRef:
    """Resolve ``unit.<f>`` / ``string.<f>`` inside a template element to a full path."""
    head, _, field = text.strip().partition(".")
    if head == "unit":
        if unit is None:
            raise MapCompileError(f"{where}: unit.{field} is only valid in a for_each: unit template")
        text = f"strings[{string}].units[{unit}].{field}"
    elif head == "string":
        text = f"strings[{string}].{field}"
    try:
        return parse_source(text)
    except SourceError as e:
        raise MapCompileError(f"{where}: {e}") from None


def _point(
    spec: PointSpec | TemplatePoint,
    address: int,
    source: SourceRef,
    default_function: str | None,
    regmap: RegisterMap,
    where: str,
) -> CompiledPoint:
    function = spec.function or default_function or "input_register"
    if spec.write is not None and function not in ("holding_register", "coil"):
        raise MapCompileError(
            f"{where}: {function} points are read-only; only holding registers and coils can be written"
        )
    data_type = "bool" if function in BIT_FUNCTIONS else spec.data_type
    return CompiledPoint(
        function=function,
        address=address,
        data_type=data_type,
        byte_order=spec.byte_order or regmap.byte_order,
        word_order=spec.word_order or regmap.word_order,
        scale=spec.scale,
        offset=spec.offset,
        source=source,
        unit=spec.unit,
        description=spec.description,
        write=spec.write,
    )


def _element_write(write: WriteSpec, string: int, unit: int | None) -> WriteSpec:
    """Fill ``$string`` / ``$position`` in a template's fixed command arguments."""
    fill = {"$string": string, "$position": None if unit is None else unit + 1}
    args = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in write.args.items()}
    return write.model_copy(update={"args": args})


def _expand(t: Template, ti: int, layout: Layout, regmap: RegisterMap) -> list[CompiledPoint]:
    wanted = range(len(layout.units_per_string)) if t.strings is None else t.strings
    elements: list[tuple[int, int | None]] = []
    for s in wanted:
        if s >= len(layout.units_per_string):
            raise MapCompileError(f"templates[{ti}].strings: the site has no string {s}")
        if t.for_each == "string":
            elements.append((s, None))
        else:
            elements += [(s, u) for u in range(layout.units_per_string[s])]
    if t.limit is not None:
        elements = elements[: t.limit]
    out = []
    for n, (s, u) in enumerate(elements):
        for pi, tp in enumerate(t.points):
            where = f"templates[{ti}].points[{pi}]"
            source = _source_in_element(tp.source, s, u, where)
            spec = tp if tp.write is None else tp.model_copy(update={"write": _element_write(tp.write, s, u)})
            out.append(_point(spec, t.base + n * t.stride + tp.at, source, t.function, regmap, where))
    return out


def check_sources(regmap: RegisterMap) -> None:
    """Check every source path without knowing the site's layout (for early config validation)."""
    for i, spec in enumerate(regmap.points):
        try:
            parse_source(spec.source)
        except SourceError as e:
            raise MapCompileError(f"points[{i}]: {e}") from None
    for ti, t in enumerate(regmap.templates):
        for pi, tp in enumerate(t.points):
            _source_in_element(
                tp.source, 0, 0 if t.for_each == "unit" else None, f"templates[{ti}].points[{pi}]"
            )


def compile_map(regmap: RegisterMap, layout: Layout) -> CompiledMap:
    """Expand and check ``regmap`` for ``layout``; raises :class:`MapCompileError`."""
    points: list[CompiledPoint] = []
    for i, spec in enumerate(regmap.points):
        try:
            source = parse_source(spec.source)
        except SourceError as e:
            raise MapCompileError(f"points[{i}]: {e}") from None
        points.append(_point(spec, spec.address, source, None, regmap, f"points[{i}]"))
    for ti, t in enumerate(regmap.templates):
        points += _expand(t, ti, layout, regmap)
    _check_overlaps(points)
    order = {f: k for k, f in enumerate(FUNCTIONS)}
    points.sort(key=lambda p: (order[p.function], p.address))
    return CompiledMap(regmap.name, tuple(points))


def _check_overlaps(points: Sequence[CompiledPoint]) -> None:
    owner: dict[tuple[str, int], CompiledPoint] = {}
    for p in points:
        if p.address + p.width > 65536:
            raise MapCompileError(f"{p.source.path}: {p.function} {p.address} runs past address 65535")
        for a in range(p.address, p.address + p.width):
            other = owner.setdefault((p.function, a), p)
            if other is not p:
                raise MapCompileError(
                    f"{p.function} {a} is mapped twice: {other.source.path} and {p.source.path}"
                )
