"""Settings of the ``web`` service (one entry of the YAML ``services:`` list)."""

from __future__ import annotations

from pydantic import Field

from gateway.core.components import ComponentConfig


class WebConfig(ComponentConfig):
    host: str = Field("0.0.0.0", description="Address to listen on; 127.0.0.1 keeps the UI local.")
    port: int = Field(8443, ge=0, le=65535, description="HTTPS port (0 = any free port, for tests).")
    http_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Also listen for plain http on this port, only to redirect to https; off when unset.",
    )
    cert_file: str | None = Field(
        None, description="PEM certificate (chain) to serve; unset = a self-signed one made on first start."
    )
    key_file: str | None = Field(None, description="PEM private key of cert_file.")
    hostnames: list[str] = Field(
        default_factory=list, description="Extra DNS names/IP addresses for the self-signed certificate."
    )
    session_idle_s: float = Field(900.0, gt=0, description="A browser session ends after this idle time, s.")
    session_max_s: float = Field(
        43200.0, gt=0, description="A browser session ends after this time at most, s."
    )
    login_max_failures: int = Field(
        20, ge=1, description="Failed logins from one address that block that address for a while."
    )
    login_lockout_s: float = Field(300.0, ge=0, description="How long a blocked address must wait, s.")
    live_interval_s: float = Field(
        1.0, ge=0.1, le=60, description="Live updates pushed to browsers at most this often, s (real time)."
    )
    trend_points: int = Field(
        720,
        ge=10,
        le=100_000,
        description="Samples per value kept in memory for trend charts when no history store runs.",
    )
    trend_interval_s: float = Field(
        10.0, gt=0, description="Simulated seconds between in-memory trend samples."
    )
