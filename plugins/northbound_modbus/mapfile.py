"""The YAML register-map format: points by function and address, and unit/string templates.

A map file is validated whole when it is loaded; an error names the file and the key path.
Addresses are protocol (0-based, PDU) addresses: mbpoll needs ``-0`` to use them as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.core.commands import COMMAND_KINDS
from plugins.northbound_modbus.encoding import DataType, Order

Function = Literal["coil", "discrete_input", "holding_register", "input_register"]
FUNCTIONS: tuple[Function, ...] = ("coil", "discrete_input", "holding_register", "input_register")
DEFAULT_MAP = Path(__file__).parent / "maps" / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WriteSpec(_Strict):
    """How a client's write to a point becomes a command for the engine."""

    command: str = Field(description="Command kind (gateway/core/commands.py COMMAND_KINDS), e.g. ack_alarm.")
    arg: str = Field(description="The command argument that receives the written value, e.g. alarm_id.")
    arg_type: Literal["int", "float", "bool"] = Field(
        "float", description="Type of that argument: int values must be whole numbers."
    )
    args: dict[str, Any] = Field(default_factory=dict, description="Fixed arguments sent with every write.")
    min: float | None = Field(
        None,
        description="Lowest accepted value (engineering units); "
        "below it the write is refused with exception 03.",
    )
    max: float | None = Field(
        None,
        description="Highest accepted value (engineering units); "
        "above it the write is refused with exception 03.",
    )

    @field_validator("command")
    @classmethod
    def _known_command(cls, v: str) -> str:
        if v not in COMMAND_KINDS:
            raise ValueError(f"unknown command {v!r}; known: {', '.join(COMMAND_KINDS)}")
        return v


class _PointBase(_Strict):
    function: Function | None = Field(
        None, description="Register table; default input_register (or the template's function)."
    )
    data_type: DataType = Field(
        "uint16",
        description="int16, uint16, int32, uint32 or float32 (ignored for coils and discrete inputs).",
    )
    byte_order: Order | None = Field(None, description="Byte order inside a register; default: the map's.")
    word_order: Order | None = Field(None, description="Register order of 32-bit values; default: the map's.")
    scale: float = Field(1.0, description="register = value × scale + offset.")
    offset: float = Field(0.0, description="register = value × scale + offset.")
    source: str = Field(
        description="Snapshot path, e.g. strings[0].units[3].voltage_v; in a template "
        "unit.<field> and string.<field> name the element being expanded."
    )
    unit: str = Field("", description="Unit of the register value, for the documentation (mV, 0.1 °C).")
    description: str = Field("", description="Free text for the documentation.")
    write: WriteSpec | None = Field(
        None,
        description="Makes the point writable (holding registers and coils only), through the command queue.",
    )

    @field_validator("scale")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("scale must not be 0")
        return v

    @model_validator(mode="after")
    def _writable_table(self) -> _PointBase:
        if self.write is not None and self.function in ("input_register", "discrete_input"):
            raise ValueError(f"{self.function} points are read-only; use holding_register or coil to write")
        return self


class PointSpec(_PointBase):
    """One point at a fixed address."""

    address: int = Field(ge=0, le=65535, description="Protocol (0-based) address of the first register.")


class TemplatePoint(_PointBase):
    """One point of a template, at ``base + n × stride + at``."""

    at: int = Field(0, ge=0, description="Register offset of this point inside one element's block.")


class Template(_Strict):
    """Points repeated for every unit (or string) of the site: element n at base + n × stride."""

    for_each: Literal["unit", "string"] = Field(
        description="Expand once per unit (site order) or per string."
    )
    base: int = Field(ge=0, le=65535, description="Address of element 0.")
    stride: int = Field(1, ge=1, description="Registers between consecutive elements.")
    function: Function | None = Field(None, description="Default register table of the points.")
    strings: list[int] | None = Field(None, description="Only these strings (indexes); default all.")
    limit: int | None = Field(None, ge=1, description="At most this many elements; the rest is not mapped.")
    points: list[TemplatePoint] = Field(min_length=1, description="The points of one element.")


class RegisterMap(_Strict):
    """A whole map file."""

    name: str = Field("", description="Title shown in the documentation.")
    description: str = Field("", description="Free text.")
    byte_order: Order = Field(
        "big", description="Default byte order inside registers (big = Modbus standard)."
    )
    word_order: Order = Field(
        "big", description="Default register order of 32-bit values (big = high word first; mbpoll needs -B)."
    )
    points: list[PointSpec] = Field(default_factory=list, description="Points at fixed addresses.")
    templates: list[Template] = Field(default_factory=list, description="Per-unit and per-string blocks.")


class MapFileError(ValueError):
    """A map file that cannot be read or validated; the message names the file and the key path."""


def load_map(path: Path | str) -> RegisterMap:
    """Read and validate a map file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MapFileError(f"{path}: cannot read register map: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise MapFileError(f"{path}: not valid YAML: {e}") from None
    try:
        return RegisterMap.model_validate(data or {})
    except ValidationError as e:
        lines = [
            f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in e.errors(include_url=False)
        ]
        raise MapFileError("\n".join(lines)) from None
