"""Turns one :class:`Snapshot` into the agent's table: OID -> SNMP value, scaled to integers.

Built once per snapshot version; a value that was never measured (``None``) has no instance,
so GET answers noSuchInstance and a walk skips it rather than inventing a number.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from pysnmp.proto import rfc1902

from gateway import __version__
from gateway.core.model import Quality, Snapshot, StringMode, StringView
from plugins.northbound_snmp import mib
from plugins.northbound_snmp.mib import Oid

INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1

Value = (
    rfc1902.Integer32
    | rfc1902.OctetString
    | rfc1902.Unsigned32
    | rfc1902.Gauge32
    | rfc1902.TimeTicks
    | rfc1902.ObjectIdentifier
)


@dataclass(frozen=True)
class AgentIdentity:
    """Constant parts of the system group and of the scaling rules."""

    enterprise_number: int
    site_name: str
    sys_contact: str = ""
    sys_location: str = ""
    ups_string: str | None = None
    battery_low_soc: float = 0.3
    battery_depleted_soc: float = 0.05


def scaled(x: float | None, factor: float, lo: int = -(2**31), hi: int = INT32_MAX) -> int | None:
    """``x * factor`` rounded and clamped into the SNMP type's range; None stays None."""
    if x is None or not math.isfinite(x):
        return None
    return max(lo, min(hi, round(x * factor)))


def _text(s: str) -> rfc1902.OctetString:
    return rfc1902.OctetString(s.encode("utf-8")[:255])


def date_and_time(t: float) -> rfc1902.OctetString:
    """SNMPv2-TC DateAndTime, 11-octet UTC form."""
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    raw = bytes(
        [
            d.year >> 8,
            d.year & 0xFF,
            d.month,
            d.day,
            d.hour,
            d.minute,
            d.second,
            d.microsecond // 100_000,
            ord("+"),
            0,
            0,
        ]
    )
    return rfc1902.OctetString(raw)


def unit_status(status: str, quality: Quality) -> int:
    """cgUnitStatus: a reading that is not current wins over the alarm level."""
    if quality is not Quality.GOOD:
        return mib.UNIT_STATUSES.get(quality.value, mib.UNIT_STATUS_UNKNOWN)
    return mib.UNIT_STATUSES.get(status, mib.UNIT_STATUS_UNKNOWN)


def ups_string_of(snapshot: Snapshot, name: str | None) -> StringView | None:
    """The string the UPS-MIB battery group describes: the named one, else the first."""
    if not snapshot.strings:
        return None
    if name is None:
        return snapshot.strings[0]
    return next((s for s in snapshot.strings if s.name == name), None)


def build_table(snap: Snapshot, ident: AgentIdentity) -> dict[Oid, Value]:
    """Every static instance of the snapshot (dynamic ones, such as ages, are added per request)."""
    table: dict[Oid, Value] = {}
    root = mib.module_root(ident.enterprise_number)

    def put_int(oid: Oid, v: int | None) -> None:
        if v is not None:
            table[oid] = rfc1902.Integer32(v)

    def put_uint(oid: Oid, v: int | None) -> None:
        if v is not None:
            table[oid] = rfc1902.Unsigned32(max(0, min(UINT32_MAX, v)))

    # SNMPv2-MIB system group
    sys_ = mib.SYSTEM
    table[(*sys_, mib.SYS_DESCR, 0)] = _text(f"cellgate {__version__} battery management gateway")
    table[(*sys_, mib.SYS_OBJECT_ID, 0)] = rfc1902.ObjectIdentifier(root)
    table[(*sys_, mib.SYS_CONTACT, 0)] = _text(ident.sys_contact)
    table[(*sys_, mib.SYS_NAME, 0)] = _text(snap.site_name or ident.site_name)
    table[(*sys_, mib.SYS_LOCATION, 0)] = _text(ident.sys_location)
    table[(*sys_, mib.SYS_SERVICES, 0)] = rfc1902.Integer32(72)  # applications + end-to-end

    # site scalars
    site = (*root, mib.OBJECTS, mib.SITE)
    table[(*site, mib.SITE_NAME, 0)] = _text(snap.site_name or ident.site_name)
    table[(*site, mib.SITE_VERSION, 0)] = rfc1902.Unsigned32(snap.version & UINT32_MAX)
    put_int((*site, mib.SITE_AMBIENT, 0), scaled(snap.ambient_c, 10))
    put_int((*site, mib.SITE_HUMIDITY, 0), scaled(snap.humidity_pct, 10, 0, 1000))
    table[(*site, mib.SITE_STRINGS, 0)] = rfc1902.Integer32(len(snap.strings))
    units = [u for s in snap.strings for u in s.units]
    table[(*site, mib.SITE_UNITS, 0)] = rfc1902.Integer32(len(units))
    active = sum(1 for a in snap.alarms if a.cleared_at is None)
    table[(*site, mib.SITE_ACTIVE_ALARMS, 0)] = rfc1902.Gauge32(active)

    # string table
    st = (*root, mib.OBJECTS, mib.STRING_TABLE, mib.ENTRY)
    for s in snap.strings:
        i = s.index + 1
        table[(*st, mib.STR_NAME, i)] = _text(s.name)
        table[(*st, mib.STR_CHEMISTRY, i)] = _text(str(s.chemistry))
        put_int((*st, mib.STR_VOLTAGE, i), scaled(s.voltage_v, 1000))
        put_int((*st, mib.STR_CURRENT, i), scaled(s.current_a, 1000))
        put_int((*st, mib.STR_RIPPLE, i), scaled(s.ripple_a, 1000))
        put_int((*st, mib.STR_SPREAD, i), scaled(s.spread_v, 1000))
        put_int((*st, mib.STR_SOC, i), scaled(s.soc, 1000, 0, 1000))
        put_uint((*st, mib.STR_RUNTIME, i), scaled(s.runtime_s, 1, 0))
        mode = s.mode.value if isinstance(s.mode, StringMode) else str(s.mode)
        table[(*st, mib.STR_MODE, i)] = rfc1902.Integer32(mib.STRING_MODES.get(mode, 5))
        table[(*st, mib.STR_UNITS, i)] = rfc1902.Integer32(len(s.units))

    # unit table, one row per unit of the site
    ut = (*root, mib.OBJECTS, mib.UNIT_TABLE, mib.ENTRY)
    for n, u in enumerate(units, start=1):
        table[(*ut, mib.UNIT_STRING, n)] = rfc1902.Integer32(u.string + 1)
        table[(*ut, mib.UNIT_POSITION, n)] = rfc1902.Integer32(u.position)
        table[(*ut, mib.UNIT_MODEL, n)] = _text(u.model)
        put_int((*ut, mib.UNIT_VOLTAGE, n), scaled(u.voltage_v, 1000))
        put_int((*ut, mib.UNIT_TEMPERATURE, n), scaled(u.temperature_c, 10))
        put_uint((*ut, mib.UNIT_RI, n), scaled(u.ri_ohm, 1e6, 0))
        put_uint((*ut, mib.UNIT_RI_BASELINE, n), scaled(u.ri_baseline_ohm, 1e6, 0))
        put_int((*ut, mib.UNIT_SOC, n), scaled(u.soc, 1000, 0, 1000))
        put_int((*ut, mib.UNIT_SOH, n), scaled(u.soh, 1000, 0, 1000))
        put_int((*ut, mib.UNIT_DUTY, n), scaled(u.equalize_duty, 1000, 0, 1000))
        table[(*ut, mib.UNIT_STATUS, n)] = rfc1902.Integer32(unit_status(u.status, u.quality))
        if u.updated_at is not None:
            put_uint((*ut, mib.UNIT_AGE, n), scaled(max(0.0, snap.time - u.updated_at), 1, 0))
        table[(*ut, mib.UNIT_PSOC, n)] = rfc1902.Integer32(1 if u.psoc else 2)
        table[(*ut, mib.UNIT_BUS, n)] = _text(u.bus)
        table[(*ut, mib.UNIT_ADDRESS, n)] = rfc1902.Integer32(u.address)
        table[(*ut, mib.UNIT_CHANNEL, n)] = rfc1902.Integer32(u.channel)

    # alarm table
    at = (*root, mib.OBJECTS, mib.ALARM_TABLE, mib.ENTRY)
    for a in snap.alarms:
        i = a.id & UINT32_MAX
        if i == 0:
            continue  # not a valid index (1..4294967295)
        table[(*at, mib.ALARM_CODE, i)] = _text(a.code)
        table[(*at, mib.ALARM_LEVEL, i)] = rfc1902.Integer32(mib.LEVELS.get(a.level, 3))
        table[(*at, mib.ALARM_SOURCE, i)] = _text(a.source)
        table[(*at, mib.ALARM_MESSAGE, i)] = _text(a.message)
        table[(*at, mib.ALARM_RAISED_AT, i)] = date_and_time(a.raised_at)
        if a.cleared_at is not None:
            table[(*at, mib.ALARM_CLEARED_AT, i)] = date_and_time(a.cleared_at)
        if a.acked_by:
            table[(*at, mib.ALARM_ACKED_BY, i)] = _text(a.acked_by)
        if a.value is not None:
            table[(*at, mib.ALARM_VALUE, i)] = _text(f"{a.value:g}")
        state = "cleared" if a.cleared_at is not None else ("acknowledged" if a.acked_by else "raised")
        table[(*at, mib.ALARM_STATE, i)] = rfc1902.Integer32(mib.ALARM_STATES[state])

    _ups_battery(table, snap, ident)
    return table


def _ups_battery(table: dict[Oid, Value], snap: Snapshot, ident: AgentIdentity) -> None:
    """RFC 1628 upsBattery for the configured string (seconds on battery is dynamic)."""
    s = ups_string_of(snap, ident.ups_string)
    b = mib.UPS_BATTERY
    if s is None:
        table[(*b, mib.UPS_BATTERY_STATUS, 0)] = rfc1902.Integer32(1)
        return
    current = [u for u in s.units if u.quality is Quality.GOOD]
    if s.soc is None or not current:
        status = 1  # unknown: no current reading to judge by
    elif s.soc < ident.battery_depleted_soc:
        status = 4
    elif s.soc < ident.battery_low_soc:
        status = 3
    else:
        status = 2
    table[(*b, mib.UPS_BATTERY_STATUS, 0)] = rfc1902.Integer32(status)
    if s.runtime_s is not None:
        table[(*b, mib.UPS_MINUTES_REMAINING, 0)] = rfc1902.Integer32(
            max(1, min(INT32_MAX, int(s.runtime_s // 60)))
        )
    if s.soc is not None:
        table[(*b, mib.UPS_CHARGE_REMAINING, 0)] = rfc1902.Integer32(scaled(s.soc, 100, 0, 100) or 0)
    if s.voltage_v is not None:
        table[(*b, mib.UPS_BATTERY_VOLTAGE, 0)] = rfc1902.Integer32(scaled(s.voltage_v, 10, 0) or 0)
    if s.current_a is not None:
        table[(*b, mib.UPS_BATTERY_CURRENT, 0)] = rfc1902.Integer32(scaled(s.current_a, 10) or 0)
    temps = [u.temperature_c for u in current if u.temperature_c is not None]
    temp = statistics.fmean(temps) if temps else snap.ambient_c
    if temp is not None:
        table[(*b, mib.UPS_BATTERY_TEMPERATURE, 0)] = rfc1902.Integer32(scaled(temp, 1) or 0)
