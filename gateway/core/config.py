"""The one YAML file: its schema, and validating it whole before anything starts.

Every error names the file, the line and the key path, and the gateway refuses to start.
Static sections (site, strings, lines) are models here; the ``type:``-selected entries
(services, authenticators, actions, history) and ``lines[].options`` are validated by the
``Config`` model of the class a plugin registered for that type or URL scheme.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.core.alarms.settings import AlarmSettings
from gateway.core.bus.settings import BusSettings
from gateway.core.engine.config import EngineConfig
from gateway.core.model import Chemistry
from gateway.core.secrets import Secret  # re-exported: plugins type their secrets with it
from gateway.core.topology import check_topology
from gateway.core.yamlsource import Path_, YamlError, dotted, line_of, load_yaml
from gateway.plugins import Plugins

DEFAULT_CONFIG = Path("config/cellgate.yaml")
MAX_MONITORS = 512


__all__ = ["ConfigError", "GatewayConfig", "LoadedConfig", "Secret", "load_config", "validate_data"]


def default_config_path() -> Path:
    """``$CELLGATE_CONFIG``, else ``config/cellgate.yaml``."""
    return Path(os.environ.get("CELLGATE_CONFIG") or DEFAULT_CONFIG)


# --------------------------------------------------------------------------- sections
class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteConfig(Section):
    name: str = Field("cellgate site", description="Site name shown in the UI, MIB and reports.")
    location: str = Field("", description="Free text: building, room, rack.")


class DeviceRef(Section):
    bus: str = Field(description="Name of the line (lines[].name) the device is on.")
    address: int = Field(ge=1, le=247, description="Modbus unit id of the device (1–246; 247 unaddressed).")


class UnitsConfig(Section):
    model: str = Field(description="Monitor model on every unit of this string (C20, C40, C20ex3, ...).")
    count: int = Field(ge=1, le=MAX_MONITORS * 3, description="Number of units (batteries) in series.")
    bus: str = Field(description="Name of the line the monitors are on.")
    first_address: int = Field(
        1,
        ge=1,
        le=246,
        description="Unit id of the monitor on position 1; the next monitors follow at consecutive ids.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Driver options of this model (the generic driver's register map)."
    )
    serials: list[int] | None = Field(
        None,
        description="Expected serial number per monitor, in "
        "address order; a mismatch raises an identity alarm.",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("monitor_models")
        if known is not None and v not in known:
            raise ValueError(
                f"{v!r} is not a known monitor model; known: {', '.join(known) or 'none installed'}"
            )
        return v


class StringConfig(Section):
    name: str = Field(description="String name, e.g. 'UPS 1 string A'.")
    chemistry: Chemistry = Field(Chemistry.VRLA, description="Battery chemistry.")
    nominal_voltage_v: float = Field(12.0, gt=0, description="Nominal voltage of one unit (block or cell).")
    rated_capacity_ah: float = Field(
        100.0, gt=0, description="Rated capacity of one unit at the 10-hour rate."
    )
    units: UnitsConfig = Field(description="The units of this string and their monitors.")
    current_sensor: DeviceRef | None = Field(None, description="The CS string current sensor, if any.")


class SensorsConfig(Section):
    ambient: DeviceRef | None = Field(None, description="THS ambient temperature/humidity sensor.")
    aux: DeviceRef | None = Field(
        None,
        description="AUX I/O module: relay 0 is the general-alarm "
        "dry contact (normally closed, opens on alarm).",
    )


class LineConfig(Section):
    name: str = Field(description="Name the strings and sensors use to refer to this line.")
    url: str = Field(
        description="Where the line is: /dev/ttyUSB0, socket://host:port, rfc2217://host:port or sim://NAME."
    )
    baud: Literal[9600, 19200, 38400, 57600, 115200] = Field(19200, description="Line speed.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the transport selected by the URL scheme (see that plugin's sample.yaml).",
    )
    polling: BusSettings = Field(
        default_factory=BusSettings,
        description="Bus master settings: cycle, timeouts, retries, comm-loss, Ri schedule.",
    )

    @field_validator("options", "polling", mode="before")
    @classmethod
    def _empty_is_default(cls, v: Any) -> Any:
        return {} if v is None else v  # a section whose keys are all commented out

    @property
    def scheme(self) -> str:
        return url_scheme(self.url)


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Default log level.")
    format: Literal["console", "json"] = Field(
        "console", description="console for people, json lines for log collectors."
    )
    levels: dict[str, Literal["debug", "info", "warning", "error"]] = Field(
        default_factory=dict, description="Level per logger, e.g. {plugins.northbound_snmp: debug}."
    )


class TypedEntry(BaseModel):
    """A ``{type: NAME, ...}`` entry; the rest is validated by that type's own Config."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="The component type, as a plugin registered it.")


class GatewayConfig(Section):
    """The whole file."""

    site: SiteConfig = Field(default_factory=SiteConfig, description="The site.")
    data_dir: str = Field(
        "var",
        description="Folder for history, users, certificates and state (relative to this file's folder).",
    )
    lines: list[LineConfig] = Field(default_factory=list, description="RS-485 lines.")
    strings: list[StringConfig] = Field(default_factory=list, description="Battery strings.")
    sensors: SensorsConfig = Field(default_factory=SensorsConfig, description="Site sensors and I/O.")
    engine: EngineConfig = Field(default_factory=EngineConfig, description="Estimation and equalization.")
    alarms: AlarmSettings = Field(
        default_factory=AlarmSettings, description="Alarm thresholds, delays, latching and the alarm relay."
    )
    history: TypedEntry | None = Field(None, description="Where history is kept ({type: sqlite}).")
    services: list[TypedEntry] = Field(
        default_factory=list, description="Northbound services; none runs unless listed here."
    )
    authenticators: list[TypedEntry] = Field(
        default_factory=list, description="Authenticator chain for logins, tried in order."
    )
    actions: list[TypedEntry] = Field(default_factory=list, description="What to do on events.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logs.")

    @model_validator(mode="after")
    def _cross_references(self) -> GatewayConfig:
        lines = {ln.name for ln in self.lines}
        if len(lines) != len(self.lines):
            raise ValueError("two lines have the same name")
        relay = self.alarms.relay
        if relay.enabled and self.engine.thermal.action == f"aux_relay_{relay.aux_relay}":
            raise ValueError(
                f"engine.thermal.action and alarms.relay both use AUX relay {relay.aux_relay}: "
                "give the thermal-runaway trip its own relay"
            )
        return self


# component config objects, validated by the registered classes, keyed like the file
@dataclass
class LoadedConfig:
    """A validated file: the root model, the validated component configs, where it came from."""

    root: GatewayConfig
    path: Path
    line_options: list[BaseModel]  # per lines[i]: the transport's Config
    services: list[tuple[str, BaseModel]]
    authenticators: list[tuple[str, BaseModel]]
    actions: list[tuple[str, BaseModel]]
    history: tuple[str, BaseModel] | None

    @property
    def config_dir(self) -> Path:
        return self.path.parent

    @property
    def data_dir(self) -> Path:
        p = Path(self.root.data_dir).expanduser()
        return p if p.is_absolute() else (self.config_dir / p).resolve()

    def __getattr__(self, name: str) -> Any:  # ctx.config.strings etc. read through to the root
        return getattr(self.root, name)


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """Everything wrong with a config file, each with file, line and key path."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def url_scheme(url: str) -> str:
    """``socket://h:p`` → ``socket``; a bare device path (``/dev/ttyUSB0``, ``COM3``) → ``serial``."""
    return url.split("://", 1)[0].lower() if "://" in url else "serial"


def _issues_from(e: ValidationError, prefix: Path_, file: str, lines: dict[Path_, int]) -> list[ConfigIssue]:
    out = []
    for err in e.errors(include_url=False):
        loc: Path_ = (*prefix, *err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of this section; check the spelling)"
        out.append(ConfigIssue(file, line_of(lines, loc), dotted(loc), msg))
    return out


# --------------------------------------------------------------------------- loading
def validate_data(
    data: Any,
    plugins: Plugins,
    *,
    file: str = "<config>",
    config_dir: Path = Path("."),
    lines: dict[Path_, int] | None = None,
) -> LoadedConfig:
    """Validate already-parsed data; raises :class:`ConfigError` listing every problem."""
    lines = lines or {}
    reg = plugins.registry
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(file, 1, "", "the file must be a mapping of sections")])
    ctx = {"monitor_models": reg.names("monitor"), "config_dir": str(config_dir)}
    try:
        root = GatewayConfig.model_validate(data, context=ctx)
    except ValidationError as e:
        raise ConfigError(_issues_from(e, (), file, lines)) from None
    issues: list[ConfigIssue] = []

    def at(where: Path_, msg: str) -> None:
        issues.append(ConfigIssue(file, line_of(lines, where), dotted(where), msg))

    def component(kind: str, what: str, entry: TypedEntry, where: Path_) -> tuple[str, BaseModel] | None:
        cls = reg.get(kind, entry.type)
        if cls is None:
            known = ", ".join(reg.names(kind)) or "none installed"
            at((*where, "type"), f"{entry.type!r} is not a known {what}; known: {known}")
            return None
        body = dict((entry.model_extra or {}).items())
        try:
            return entry.type, cls.Config.model_validate(body, context=ctx)
        except ValidationError as e:
            issues.extend(_issues_from(e, where, file, lines))
            return None

    line_options: list[BaseModel] = []
    for i, ln in enumerate(root.lines):
        cls = reg.get("transport", ln.scheme)
        if cls is None:
            known = ", ".join(reg.names("transport")) or "none installed"
            at(("lines", i, "url"), f"no transport for scheme {ln.scheme!r}; known: {known}")
            continue
        try:
            line_options.append(cls.Config.model_validate(ln.options, context=ctx))
        except ValidationError as e:
            issues.extend(_issues_from(e, ("lines", i, "options"), file, lines))
    line_names = [ln.name for ln in root.lines]
    check_topology(root, line_names, at)
    services = [
        c for i, s in enumerate(root.services) if (c := component("service", "service", s, ("services", i)))
    ]
    auths = [
        c
        for i, s in enumerate(root.authenticators)
        if (c := component("authenticator", "authenticator", s, ("authenticators", i)))
    ]
    actions = [
        c for i, s in enumerate(root.actions) if (c := component("action", "action", s, ("actions", i)))
    ]
    history = component("history", "history sink", root.history, ("history",)) if root.history else None
    if issues:
        raise ConfigError(issues)
    return LoadedConfig(root, Path(file), line_options, services, auths, actions, history)


def load_config(path: Path | str, plugins: Plugins) -> LoadedConfig:
    """Read and validate ``path``; raises :class:`ConfigError` (file, line, key path)."""
    path = Path(path)
    try:
        data, lines = load_yaml(path)
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), None, "", "no such file")]) from None
    except YamlError as e:
        raise ConfigError([ConfigIssue(e.file, e.line, "", e.message)]) from None
    loaded = validate_data(data, plugins, file=str(path), config_dir=path.resolve().parent, lines=lines)
    loaded.path = path.resolve()
    return loaded
