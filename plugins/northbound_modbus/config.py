"""Settings of the ``modbus`` service (one entry of ``services:``), validated before start."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from gateway.core.components import ComponentConfig
from plugins.northbound_modbus.compiler import MapCompileError, check_sources
from plugins.northbound_modbus.mapfile import MapFileError, load_map
from plugins.northbound_modbus.writes import RTU_CLIENT


class TcpConfig(ComponentConfig):
    enabled: bool = Field(True, description="Serve Modbus TCP.")
    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(
        5020,
        ge=0,
        le=65535,
        description="TCP port; 502 is the standard one (needs "
        "CAP_NET_BIND_SERVICE or root), 5020 needs no privilege. 0 picks a free port.",
    )


class RtuConfig(ComponentConfig):
    port: str = Field(description="Serial device of the RS-485 line to the PLC, e.g. /dev/ttyUSB1.")
    baud: int = Field(19200, description="Line speed.")
    parity: Literal["N", "E", "O"] = Field("E", description="Parity: E (Modbus default), O or N.")
    stopbits: Literal[1, 2] = Field(1, description="Stop bits (2 when parity is N, by the Modbus spec).")


class WritesConfig(ComponentConfig):
    enabled: bool = Field(False, description="Accept writes at all; off by default (exception 01).")
    allow: list[str] = Field(
        default_factory=list,
        description="Clients allowed to write: IP addresses "
        "or networks (10.0.0.0/24); 'rtu' allows the master on the RTU line.",
    )
    role: Literal["operator", "admin"] = Field(
        "operator", description="Role the engine checks writes against; set_threshold needs admin."
    )
    timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How long a write waits for the engine before answering exception 06 (busy).",
    )

    @field_validator("allow")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for entry in v:
            if entry == RTU_CLIENT:
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address, network or 'rtu'") from None
        return v


class ModbusServiceConfig(ComponentConfig):
    tcp: TcpConfig = Field(default_factory=TcpConfig, description="The Modbus TCP server.")
    rtu: RtuConfig | None = Field(None, description="An RTU slave on a serial line (off unless given).")
    unit_ids: list[int] = Field(
        default_factory=lambda: [1],
        min_length=1,
        description="Unit ids answered "
        "(all with the same map). Other ids get exception 0B on TCP, silence on RTU.",
    )
    map: str = Field(
        "default",
        description="Register map: 'default' (maps/default.yaml of this plugin) "
        "or the path of a YAML map, relative to the config file.",
    )
    holding_mirrors_input: bool = Field(
        True,
        description="Input registers are also readable as holding "
        "registers (FC 3) at the same address, for masters that only use FC 3.",
    )
    allow_gaps: bool = Field(
        False,
        description="Let a read span unmapped addresses (they read 0) as "
        "long as it touches a mapped one; by default any unmapped address gives exception 02.",
    )
    stale_after_s: float = Field(
        60.0,
        gt=0,
        description="Data older than this clears the 'running' "
        "flag and sets 'data stale' (site.flags bit 6).",
    )
    writes: WritesConfig = Field(default_factory=WritesConfig, description="Client writes.")

    @field_validator("map")
    @classmethod
    def _map_loads(cls, v: str, info: ValidationInfo) -> str:
        """Refuse a missing or broken map when the config is validated, not when the service starts."""
        if v == "default":
            return v
        path = Path(v).expanduser()
        if not path.is_absolute():
            path = Path((info.context or {}).get("config_dir", ".")) / path
        try:
            check_sources(load_map(path))
        except (MapFileError, MapCompileError) as e:
            raise ValueError(str(e)) from None
        return v

    @field_validator("unit_ids")
    @classmethod
    def _ids(cls, v: list[int]) -> list[int]:
        for uid in v:
            if not 0 <= uid <= 255:
                raise ValueError(f"unit id {uid} is outside 0–255")
        return v
