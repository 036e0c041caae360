"""Scenario files: events scheduled in simulated seconds (mains failure, Ri ramp, runaway, faults...).

A scenario is YAML: ``{description: ..., events: [{at: 60, do: mains_failure}, ...]}``;
``at`` counts simulated seconds from the start of the simulation. Each event kind is a
pydantic model, so a typo in a scenario fails with the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: float = Field(0.0, ge=0, description="Simulated seconds after the start when it happens.")


class _StringEvent(_Event):
    string: int | None = Field(None, ge=0, description="String index; none = every string.")


class _UnitEvent(_Event):
    string: int = Field(0, ge=0, description="String index (0 = the first string).")
    position: int = Field(ge=1, description="Unit position in the string, 1..N.")


class _MonitorEvent(_Event):
    address: int = Field(ge=1, le=247, description="Unit id of the device on its line.")
    line: str | None = Field(None, description="Line name; none = the first simulated line.")


class MainsFailure(_StringEvent):
    do: Literal["mains_failure"]


class MainsReturn(_StringEvent):
    do: Literal["mains_return"]


class BoostCharge(_StringEvent):
    do: Literal["boost_charge"]
    duration_s: float = Field(8 * 3600, gt=0, description="How long the charger holds boost voltage.")


class UpsLoad(_StringEvent):
    do: Literal["ups_load"]
    power_w: float = Field(ge=0, description="Constant power the UPS draws from the string on battery.")


class RiRamp(_UnitEvent):
    do: Literal["ri_ramp"]
    rate_per_day: float = Field(description="Relative Ri rise per simulated day (0.5 = +50 %/day).")


class CapacityFade(_UnitEvent):
    do: Literal["capacity_fade"]
    fraction: float | None = Field(None, gt=0, le=1, description="Set the remaining capacity at once.")
    rate_per_day: float = Field(0.0, ge=0, description="Capacity lost per simulated day, fraction.")


class ThermalRunaway(_UnitEvent):
    do: Literal["thermal_runaway"]
    severity: float = Field(1.0, gt=0, description="Soft-short strength; 1 runs away within hours.")


class Ambient(_Event):
    do: Literal["ambient"]
    temperature_c: float = Field(description="New mean room temperature.")
    swing_c: float | None = Field(None, ge=0, description="Daily swing amplitude; none = unchanged.")


class UnitSilent(_MonitorEvent):
    do: Literal["unit_silent"]
    silent: bool = Field(True, description="false brings the device back.")


class FuseBlown(_MonitorEvent):
    do: Literal["fuse_blown"]
    channel: int = Field(0, ge=0, le=2, description="Monitor channel whose measurement lead opens.")
    blown: bool = Field(True, description="false replaces the fuse.")


class SensorFault(_MonitorEvent):
    do: Literal["sensor_fault"]
    channel: int = Field(0, ge=0, le=2, description="Channel (block monitors) whose sensor fails.")
    fault: bool = Field(True, description="false repairs it.")


class MonitorReplaced(_MonitorEvent):
    do: Literal["monitor_replaced"]
    serial: int | None = Field(None, ge=1, le=0xFFFFFFFF, description="New serial; none = the next free one.")


class ButtonPress(_Event):
    do: Literal["button_press"]
    address: int | None = Field(
        None, ge=1, le=247, description="Device by unit id (247 picks the first unaddressed one)."
    )
    serial: int | None = Field(None, description="Device by serial number (wins over address).")
    line: str | None = Field(None, description="Line name; none = the first simulated line.")
    hold_s: float = Field(1.0, ge=0, description="1 s: learn mode for 60 s; 10–15 s: factory reset.")


class LineUnplugged(_Event):
    do: Literal["line_unplugged"]
    line: str | None = Field(None, description="Line name; none = the first simulated line.")
    duration_s: float = Field(gt=0, description="Seconds the line stays unplugged.")


class BusFaultChange(_Event):
    do: Literal["bus_faults"]
    line: str | None = Field(None, description="Line name; none = every simulated line.")
    crc_error_rate: float | None = Field(None, ge=0, le=1, description="Share of replies with a CRC error.")
    drop_rate: float | None = Field(None, ge=0, le=1, description="Share of replies lost.")
    garbage_rate: float | None = Field(None, ge=0, le=1, description="Share of replies with noise bytes.")


class AuxInput(_Event):
    do: Literal["aux_input"]
    input: int = Field(ge=0, le=3, description="Digital input of the AUX module, 0–3.")
    value: bool = Field(description="New state of the input.")


Event = Annotated[
    MainsFailure
    | MainsReturn
    | BoostCharge
    | UpsLoad
    | RiRamp
    | CapacityFade
    | ThermalRunaway
    | Ambient
    | UnitSilent
    | FuseBlown
    | SensorFault
    | MonitorReplaced
    | ButtonPress
    | LineUnplugged
    | BusFaultChange
    | AuxInput,
    Field(discriminator="do"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field("", description="What the scenario shows.")
    events: list[Event] = Field(default_factory=list, description="Events, in any order.")


def parse_event(data: dict[str, object] | BaseModel) -> BaseModel:
    """An event from a dict (``{"do": "mains_failure", "at": 0}``) or an event model."""
    return data if isinstance(data, BaseModel) else EVENT_ADAPTER.validate_python(data)


def resolve_scenario(name: str, base: Path | None = None) -> Path:
    """A scenario file by path (relative to ``base``) or by shipped name (``mains-failure``)."""
    p = Path(name).expanduser()
    if not p.is_absolute() and base is not None and (base / p).exists():
        return base / p
    if p.exists():
        return p
    shipped = SCENARIO_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(f.stem for f in SCENARIO_DIR.glob("*.yaml")))
    raise FileNotFoundError(f"no scenario {name!r} (a file, or one of: {known})")


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; errors name the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Scenario.model_validate(data)
    except (yaml.YAMLError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from None
