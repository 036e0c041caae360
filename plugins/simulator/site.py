"""What the simulated site holds: strings, monitors and sensors per line, taken from the gateway's
root config (in-process or ``cellgate simulate -c``) or from quick command-line flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugins.simulator.models import BLOCK_MODELS, block_model


@dataclass(frozen=True)
class DeviceSpec:
    bus: str
    address: int


@dataclass(frozen=True)
class StringSpec:
    name: str
    chemistry: str
    nominal_voltage_v: float
    rated_capacity_ah: float
    model: str
    count: int
    bus: str
    first_address: int
    current_sensor: DeviceSpec | None = None

    @property
    def channels(self) -> int:
        return block_model(self.model).channels

    def monitor_addresses(self) -> list[int]:
        per = self.channels
        return [self.first_address + k for k in range(-(-self.count // per))]


@dataclass(frozen=True)
class SiteSpec:
    """The site a world simulates; ``lines`` maps line name → baud."""

    name: str
    lines: dict[str, int]
    strings: list[StringSpec] = field(default_factory=list)
    ambient: DeviceSpec | None = None
    aux: DeviceSpec | None = None

    def only_lines(self, names: set[str]) -> SiteSpec:
        """The part of the site on ``names`` (a world serves only its own sim:// lines)."""

        def keep(ref: DeviceSpec | None) -> DeviceSpec | None:
            return ref if ref is not None and ref.bus in names else None

        strings = [
            StringSpec(**{**s.__dict__, "current_sensor": keep(s.current_sensor)})
            for s in self.strings
            if s.bus in names
        ]
        return SiteSpec(
            self.name,
            {k: v for k, v in self.lines.items() if k in names},
            strings,
            keep(self.ambient),
            keep(self.aux),
        )


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a pydantic model, a dataclass or a plain dict alike."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _ref(obj: Any) -> DeviceSpec | None:
    if obj is None:
        return None
    return DeviceSpec(str(_get(obj, "bus")), int(_get(obj, "address")))


def site_from_config(root: Any) -> SiteSpec:
    """A :class:`SiteSpec` from the root config (``GatewayConfig``, ``LoadedConfig`` or its dict)."""
    site = _get(root, "site") or {}
    lines = {str(_get(ln, "name")): int(_get(ln, "baud", 19200) or 19200) for ln in _get(root, "lines") or []}
    strings = []
    for i, s in enumerate(_get(root, "strings") or []):
        units = _get(s, "units")
        chem = _get(s, "chemistry", "vrla")
        strings.append(
            StringSpec(
                name=str(_get(s, "name", f"String {i + 1}")),
                chemistry=str(getattr(chem, "value", chem)),
                nominal_voltage_v=float(_get(s, "nominal_voltage_v", 12.0)),
                rated_capacity_ah=float(_get(s, "rated_capacity_ah", 100.0)),
                model=str(_get(units, "model")),
                count=int(_get(units, "count")),
                bus=str(_get(units, "bus")),
                first_address=int(_get(units, "first_address", 1)),
                current_sensor=_ref(_get(s, "current_sensor")),
            )
        )
    sensors = _get(root, "sensors") or {}
    return SiteSpec(
        str(_get(site, "name", "simulated site")),
        lines,
        strings,
        _ref(_get(sensors, "ambient")),
        _ref(_get(sensors, "aux")),
    )


def quick_site(
    *,
    units: int = 24,
    model: str = "C20",
    strings: int = 1,
    chemistry: str | None = None,
    nominal_voltage_v: float | None = None,
    rated_capacity_ah: float = 100.0,
    baud: int = 19200,
    line: str = "bus1",
    current_sensor: int | None = 100,
    ambient: int | None = 110,
    aux: int | None = 120,
) -> SiteSpec:
    """A site from command-line flags: ``strings`` strings of ``units`` units on one line.

    Monitors follow each other from address 1; string k's current sensor is at
    ``current_sensor + k``. Chemistry and unit voltage default from the model.
    """
    bm = block_model(model)
    default_chem, default_v = {
        "C20": ("vrla", 12.0),
        "C23": ("vrla", 16.0),
        "C30": ("vrla", 6.0),
        "C40": ("vrla", 2.0),
        "C41": ("lfp", 3.2),
    }[bm.name.removesuffix("ex3")]
    specs = []
    address = 1
    for k in range(strings):
        spec = StringSpec(
            name=f"String {chr(ord('A') + k)}",
            chemistry=chemistry or default_chem,
            nominal_voltage_v=nominal_voltage_v or default_v,
            rated_capacity_ah=rated_capacity_ah,
            model=bm.name,
            count=units,
            bus=line,
            first_address=address,
            current_sensor=DeviceSpec(line, current_sensor + k) if current_sensor is not None else None,
        )
        specs.append(spec)
        address += len(spec.monitor_addresses())
    return SiteSpec(
        "simulated site",
        {line: baud},
        specs,
        DeviceSpec(line, ambient) if ambient is not None else None,
        DeviceSpec(line, aux) if aux is not None else None,
    )


KNOWN_MODELS = tuple(BLOCK_MODELS)
