"""Request bodies and response shapes of the REST API, as pydantic models for the OpenAPI spec.

Units are in field names (``voltage_v``, ``ri_ohm``), fractions are 0–1, times are seconds
since the epoch. Large read responses are served from a cache and documented here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["viewer", "operator", "admin"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitOut(BaseModel):
    string: int = Field(description="index of the string in the site")
    position: int = Field(description="1..N in series")
    model: str
    bus: str
    address: int
    channel: int
    voltage_v: float | None
    temperature_c: float | None
    ri_ohm: float | None
    ri_baseline_ohm: float | None
    soc: float | None = Field(description="state of charge, 0–1")
    soh: float | None = Field(description="state of health, 0–1")
    psoc: bool = Field(description="partial state of charge detected")
    equalize_duty: float | None = Field(description="bypass duty, 0–1")
    status: str
    quality: str
    updated_at: float | None


class StringOut(BaseModel):
    index: int
    name: str
    chemistry: str
    voltage_v: float | None
    current_a: float | None = Field(description="positive = charging")
    ripple_a: float | None
    spread_v: float | None
    soc: float | None
    runtime_s: float | None = Field(description="remaining runtime, only while discharging")
    mode: str
    unit_count: int
    target_voltage_v: float | None = Field(description="the unit voltage equalization aims at")
    status_counts: dict[str, int]
    units: list[UnitOut] | None = None


class SiteOut(BaseModel):
    name: str
    version: int = Field(description="snapshot version, increases every engine cycle")
    time: float
    ambient_c: float | None
    humidity_pct: float | None
    relays: list[bool]
    inputs: list[bool]
    alarm_count: int
    unacked_count: int
    strings: list[StringOut]


class AlarmOut(BaseModel):
    id: int
    code: str
    level: str
    source: str
    message: str
    raised_at: float
    cleared_at: float | None
    acked_by: str | None
    acked_at: float | None
    value: float | None


class DeviceOut(BaseModel):
    """One device on a line, as its bus master counts it."""

    address: int
    model: str
    state: str
    serial: int | None
    firmware: str | None
    requests: int
    timeouts: int
    crc_errors: int
    exceptions: int
    latency_ms: float | None
    consecutive_failures: int
    last_ok_time: float | None


class LineOut(BaseModel):
    name: str
    url: str
    state: str
    requests: int
    timeouts: int
    crc_errors: int
    exceptions: int
    latency_ms: float | None
    cycle_s: float | None
    units_comm_lost: int
    devices: list[DeviceOut]


class OverviewOut(BaseModel):
    site: SiteOut
    alarms: list[AlarmOut]
    lines: list[LineOut]


class ActorOut(BaseModel):
    user: str
    role: str
    source: str
    via: str


class EventOut(BaseModel):
    id: int
    time: float
    kind: str
    code: str
    message: str
    level: str
    source: str
    state: str | None
    actor: ActorOut | None
    data: dict[str, Any]


class SeriesOut(BaseModel):
    source: str
    fields: list[str]
    resolution: str
    series: dict[str, list[float | None]] = Field(description='{"t": [...], "<field>": [...]}')


class CommandOut(BaseModel):
    ok: bool
    message: str
    data: dict[str, Any] = {}


class LoginIn(_In):
    user: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    user: str
    role: str
    via: str
    must_change_password: bool
    csrf_token: str | None = Field(description="send it as X-CSRF-Token on every write of this session")
    expires_at: float | None


class PasswordChangeIn(_In):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class EqualizationIn(_In):
    enabled: bool
    string: int | None = Field(None, ge=0, description="string index; omitted = every string")


class ThresholdIn(_In):
    value: float = Field(allow_inf_nan=False)


class RelayIn(_In):
    on: bool


class WizardStartIn(_In):
    start: int = Field(ge=1, le=246, description="the id the first monitor gets; the next ones count up")


class RiBaselineIn(_In):
    position: int | None = Field(None, ge=1, description="unit position; omitted = every unit")
    ri_ohm: float | None = Field(None, gt=0, allow_inf_nan=False, description="omitted = current Ri")


class UserOut(BaseModel):
    name: str
    role: str
    must_change_password: bool
    disabled: bool
    created_at: float
    updated_at: float


class UserIn(_In):
    name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=1024)
    must_change_password: bool = Field(True, description="force a change at first login")


class UserPatch(_In):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(
        None, min_length=1, max_length=1024, description="a reset: the user must change it at next login"
    )


class TokenOut(BaseModel):
    name: str
    role: str
    owner: str | None
    created_at: float
    revoked_at: float | None


class TokenIn(_In):
    name: str = Field(min_length=1, max_length=64)
    role: Role = "viewer"


class TokenCreated(TokenOut):
    token: str = Field(description="the secret, shown once: 'Authorization: Bearer <token>'")
