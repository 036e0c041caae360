"""USM users and VACM views of the agent: who may read which subtrees, and be notified of what."""

from __future__ import annotations

from typing import Any

from pysnmp.entity import config as pconfig

from plugins.northbound_snmp import mib
from plugins.northbound_snmp.config import SnmpConfig, V3UserConfig
from plugins.northbound_snmp.mib import Oid

AUTH = {
    "sha224": pconfig.USM_AUTH_HMAC128_SHA224,
    "sha256": pconfig.USM_AUTH_HMAC192_SHA256,
    "sha384": pconfig.USM_AUTH_HMAC256_SHA384,
    "sha512": pconfig.USM_AUTH_HMAC384_SHA512,
}
PRIV = {
    "aes128": pconfig.USM_PRIV_CFB128_AES,
    "aes192": pconfig.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "aes256": pconfig.USM_PRIV_CFB256_AES_BLUMENTHAL,
}


def grant(
    engine: Any,
    security_model: int,
    security_name: str,
    level: str,
    read: list[Oid],
    notify: list[Oid] | None = None,
) -> None:
    """One VACM group per security name, with a read view and a notify view (never a write view)."""
    group = f"g-{security_model}-{security_name}"
    read_view, notify_view = f"r-{group}", f"n-{group}"
    pconfig.add_context(engine, b"")
    pconfig.add_vacm_group(engine, group, security_model, security_name)
    pconfig.add_vacm_access(engine, group, b"", security_model, level, "exact", read_view, "", notify_view)
    for subtree in read:
        pconfig.add_vacm_view(engine, read_view, "included", subtree, b"")
    for subtree in notify or []:
        pconfig.add_vacm_view(engine, notify_view, "included", subtree, b"")


def add_user(engine: Any, user: V3UserConfig) -> str:
    """Register one USM user (authPriv) at the local engine; returns its name."""
    name = user.name.get_secret_value()
    pconfig.add_v3_user(
        engine,
        name,
        AUTH[user.auth_protocol],
        user.auth_key.get_secret_value(),
        PRIV[user.priv_protocol],
        user.priv_key.get_secret_value(),
    )
    return name


def setup_users(engine: Any, cfg: SnmpConfig) -> int:
    """Every v3 user with its views (read and notify); returns the longest view subtree length."""
    depth = 1
    for user in cfg.users:
        name = add_user(engine, user)
        views = [t for v in user.views for t in mib.view_subtrees(v, cfg.enterprise_number)]
        grant(engine, 3, name, "authPriv", views, notify=views)
        depth = max(depth, *(len(t) for t in views))
    return depth
