"""The ``services: [{type: syslog, ...}]`` settings: collectors, transports, TLS, buffering."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gateway.core.components import ComponentConfig

#: RFC 5612's enterprise number for documentation, used in the SD-ID until a vendor sets its own
DOCUMENTATION_PEN = 32473

FACILITIES = {
    "kern": 0,
    "user": 1,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "authpriv": 10,
    "local0": 16,
    "local1": 17,
    "local2": 18,
    "local3": 19,
    "local4": 20,
    "local5": 21,
    "local6": 22,
    "local7": 23,
}
Facility = Literal[
    "kern",
    "user",
    "daemon",
    "auth",
    "syslog",
    "authpriv",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
]


class TlsConfig(ComponentConfig):
    """How to trust the collector (and, if it asks, who we are)."""

    ca_file: str | None = Field(
        None,
        description="CA bundle that signed the collector's certificate "
        "(relative to the config folder); default: the system's trust store.",
    )
    cert_file: str | None = Field(
        None, description="Client certificate, for collectors that authenticate senders (mutual TLS)."
    )
    key_file: str | None = Field(None, description="Private key of cert_file.")
    server_name: str | None = Field(
        None, description="Name to check the collector's certificate against; default: host."
    )
    verify: bool = Field(
        True,
        description="Check the collector's certificate. Turning this off "
        "lets anyone on the path read and forge the log stream.",
    )


class CollectorConfig(ComponentConfig):
    """One syslog collector (rsyslog, syslog-ng, a SIEM)."""

    host: str = Field(description="Collector address.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Default: 514 for udp and tcp, 6514 for tls (RFC 5425)."
    )
    protocol: Literal["udp", "tcp", "tls"] = Field(
        "tls",
        description="udp (RFC 5426, may lose messages), tcp (RFC 6587 octet counting) or tls (RFC 5425).",
    )
    tls: TlsConfig = Field(default_factory=TlsConfig, description="TLS settings (protocol: tls).")
    buffer_messages: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Messages kept while the "
        "collector is unreachable; beyond that the oldest are dropped, "
        "counted, and the count is reported when it comes back.",
    )
    reconnect_max_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Longest wait between reconnection attempts (it starts at 0.5 s and doubles).",
    )
    max_message_bytes: int = Field(
        8192,
        ge=480,
        le=65000,
        description="Longer messages are truncated (udp collectors often accept 2048 at most).",
    )

    @property
    def effective_port(self) -> int:
        return self.port or (6514 if self.protocol == "tls" else 514)


class SyslogConfig(ComponentConfig):
    """Events to syslog collectors as RFC 5424 messages with structured data."""

    collectors: list[CollectorConfig] = Field(description="Where to send; every event goes to each.")
    facility: Facility = Field("local0", description="Syslog facility of every message.")
    hostname: str | None = Field(None, description="HOSTNAME field; default: this machine's name.")
    app_name: str = Field("cellgate", min_length=1, max_length=48, description="APP-NAME field.")
    enterprise_number: int = Field(
        DOCUMENTATION_PEN,
        ge=1,
        description="Private Enterprise Number in "
        "the structured-data id (cellgate@N); 32473 is the RFC 5612 "
        "documentation placeholder.",
    )
    kinds: list[str] | None = Field(
        None,
        description="Event kinds to send (alarm, command, login, "
        "config, monitor, discharge, system); default: all.",
    )
    min_level: Literal["info", "warning", "alarm"] = Field(
        "info", description="Send only events at this level or above."
    )

    @model_validator(mode="after")
    def _some_collector(self) -> SyslogConfig:
        if not self.collectors:
            raise ValueError("syslog needs at least one collector")
        return self
