"""The ``services: [{type: snmp, ...}]`` settings: listener, v2c, v3 users, views, managers.

Secure by default: listens on loopback only, v2c off, no user; the entry must enable v2c
or name a v3 user, and v3 users get SHA-2 authentication with AES privacy, nothing weaker.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from gateway.core.components import ComponentConfig
from gateway.core.config import Secret

#: RFC 5612's enterprise number for documentation: the placeholder until a vendor sets its own
DOCUMENTATION_PEN = 32473

#: named views; a view list may also hold dotted OIDs (``"1.3.6.1.2.1.33.1.2"``)
NAMED_VIEWS = ("system", "ups", "cellgate", "all")

AuthProtocol = Literal["sha224", "sha256", "sha384", "sha512"]
PrivProtocol = Literal["aes128", "aes192", "aes256"]

_DOTTED_OID = re.compile(r"^\.?\d+(\.\d+)+$")


def _check_views(views: list[str]) -> list[str]:
    for v in views:
        if v not in NAMED_VIEWS and not _DOTTED_OID.match(v):
            raise ValueError(f"{v!r} is neither a named view ({', '.join(NAMED_VIEWS)}) nor a dotted OID")
    return views


#: a list of views to grant, each checked when the config is loaded
Views = Annotated[list[str], AfterValidator(_check_views)]


class V2cConfig(ComponentConfig):
    """SNMPv2c: read-only, community-based; off unless enabled."""

    enabled: bool = Field(
        False,
        description="Answer SNMPv2c requests. Communities travel in clear "
        "text: prefer v3 users on untrusted networks.",
    )
    community: Secret | None = Field(
        None,
        description="The read-only community (required when "
        "enabled); {env: NAME} or {file: PATH} keep it out of the file.",
    )
    views: Views = Field(
        ["all"],
        description="What v2c requests may read: named views "
        "(system, ups, cellgate, all) or dotted OID subtrees.",
    )

    @model_validator(mode="after")
    def _community_when_enabled(self) -> V2cConfig:
        if self.enabled and (self.community is None or not self.community.get_secret_value()):
            raise ValueError("v2c is enabled but no community is set")
        return self


class V3UserConfig(ComponentConfig):
    """One SNMPv3 (USM) user: authPriv only."""

    name: Secret = Field(description="User name (a secret so that {env: NAME} can supply it).")
    auth_protocol: AuthProtocol = Field("sha256", description="HMAC-SHA-2 authentication.")
    auth_key: Secret = Field(description="Authentication pass phrase, at least 8 characters.")
    priv_protocol: PrivProtocol = Field(
        "aes128",
        description="AES privacy (aes128 is the "
        "interoperable choice; aes192/aes256 use the Blumenthal key "
        "extension).",
    )
    priv_key: Secret = Field(description="Privacy pass phrase, at least 8 characters.")
    views: Views = Field(
        ["all"],
        description="What this user may read: named views "
        "(system, ups, cellgate, all) or dotted OID subtrees.",
    )

    @model_validator(mode="after")
    def _key_lengths(self) -> V3UserConfig:
        # RFC 3414 section 11.2: pass phrases shorter than 8 characters are refused by most agents
        if len(self.auth_key.get_secret_value()) < 8 or len(self.priv_key.get_secret_value()) < 8:
            raise ValueError("SNMPv3 pass phrases must be at least 8 characters long")
        if not self.name.get_secret_value():
            raise ValueError("SNMPv3 user name is empty")
        return self


class ManagerConfig(ComponentConfig):
    """A network management station that receives notifications on alarm transitions."""

    host: str = Field(description="Address of the manager (trap receiver).")
    port: int = Field(162, ge=1, le=65535, description="Its UDP port.")
    version: Literal["v2c", "v3"] = Field(
        "v3", description="v2c traps with a community, or v3 with one of `users`."
    )
    community: Secret | None = Field(None, description="v2c: the community the manager expects.")
    user: Secret | None = Field(
        None,
        description="v3: the name of one of `users` (its keys are "
        "used; the agent's engine id is the authoritative one for traps).",
    )
    notify_type: Literal["trap", "inform"] = Field(
        "trap", description="trap: fire and forget; inform: acknowledged and retried."
    )
    timeout_s: float = Field(
        1.5, gt=0, le=60, description="inform: wait this long for the acknowledgement before a retry."
    )
    retries: int = Field(3, ge=0, le=10, description="inform: how often to retry.")

    @model_validator(mode="after")
    def _credentials(self) -> ManagerConfig:
        if self.version == "v2c" and self.community is None:
            raise ValueError("a v2c manager needs a community")
        if self.version == "v3" and self.user is None:
            raise ValueError("a v3 manager needs a user (one of the agent's users)")
        return self


class SnmpConfig(ComponentConfig):
    """The SNMP agent."""

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 serves every interface.")
    port: int = Field(
        1161,
        ge=0,
        le=65535,
        description="UDP port; 161 is the standard one and "
        "needs CAP_NET_BIND_SERVICE or root; 0 picks a free port (tests).",
    )
    enterprise_number: int = Field(
        DOCUMENTATION_PEN,
        ge=1,
        le=2**31 - 1,
        description="IANA Private "
        "Enterprise Number under which CELLGATE-MIB lives (1.3.6.1.4.1.N); "
        "32473 is the documentation placeholder of RFC 5612.",
    )
    engine_id: str | None = Field(
        None,
        description="SNMPv3 engine id in hex (5–32 octets) so trap "
        "receivers can be set up once; default: derived from the enterprise "
        "number and the site name, stable across restarts.",
    )
    sys_contact: str = Field("", description="SNMPv2-MIB sysContact.")
    sys_location: str = Field("", description="SNMPv2-MIB sysLocation (default: site.location).")
    v2c: V2cConfig = Field(default_factory=V2cConfig, description="SNMPv2c access (off by default).")
    users: list[V3UserConfig] = Field(default_factory=list, description="SNMPv3 users.")
    managers: list[ManagerConfig] = Field(
        default_factory=list, description="Where to send notifications on alarm raised/cleared."
    )
    ups_string: str | None = Field(
        None,
        description="Name of the string the standard UPS-MIB "
        "upsBattery group describes; default: the first string.",
    )
    response_cache: bool = Field(
        True,
        description="Answer a repeated v2c request from the "
        "response pysnmp gave it for the same snapshot version (several "
        "times faster; v3 is never cached).",
    )
    battery_low_soc: float = Field(
        0.3, ge=0, le=1, description="upsBatteryStatus says batteryLow below this state of charge (0–1)."
    )
    battery_depleted_soc: float = Field(
        0.05,
        ge=0,
        le=1,
        description="upsBatteryStatus says batteryDepleted below this state of charge (0–1).",
    )

    @field_validator("engine_id")
    @classmethod
    def _hex_engine_id(cls, v: str | None) -> str | None:
        if v is None:
            return v
        h = v.lower().removeprefix("0x").replace(":", "")
        try:
            raw = bytes.fromhex(h)
        except ValueError:
            raise ValueError("engine_id must be hexadecimal, e.g. 80007e9905636c6761746531") from None
        if not 5 <= len(raw) <= 32:
            raise ValueError("engine_id must be 5 to 32 octets (RFC 3411)")
        return h

    @model_validator(mode="after")
    def _someone_may_ask(self) -> SnmpConfig:
        if not self.v2c.enabled and not self.users:
            raise ValueError("the SNMP agent would answer nobody: enable v2c or add a v3 user")
        names = [u.name.get_secret_value() for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError("two SNMPv3 users have the same name")
        for m in self.managers:
            if m.version == "v3" and m.user is not None and m.user.get_secret_value() not in names:
                raise ValueError(f"manager {m.host}:{m.port} names a user that is not in `users`")
        return self
