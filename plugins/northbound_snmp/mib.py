"""Where every served object lives: CELLGATE-MIB's OIDs, UPS-MIB's upsBattery group, the
system group, and the shipped MIB text with the configured enterprise number put in.
"""

from __future__ import annotations

from importlib import resources

from plugins.northbound_snmp.config import DOCUMENTATION_PEN

Oid = tuple[int, ...]

ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)
SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
UPS_MIB: Oid = (1, 3, 6, 1, 2, 1, 33)
UPS_BATTERY: Oid = (*UPS_MIB, 1, 2)  # RFC 1628 upsBattery group
SNMP_TRAP_OID: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SYS_UPTIME_0: Oid = (*SYSTEM, 3, 0)

# SNMPv2-MIB system group scalars (RFC 3418)
SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION, SYS_SERVICES = 1, 2, 3, 4, 5, 6, 7

# UPS-MIB upsBattery scalars (RFC 1628)
UPS_BATTERY_STATUS = 1  # unknown(1) batteryNormal(2) batteryLow(3) batteryDepleted(4)
UPS_SECONDS_ON_BATTERY = 2
UPS_MINUTES_REMAINING = 3
UPS_CHARGE_REMAINING = 4  # percent
UPS_BATTERY_VOLTAGE = 5  # 0.1 V DC
UPS_BATTERY_CURRENT = 6  # 0.1 A DC
UPS_BATTERY_TEMPERATURE = 7  # degrees Celsius

# CELLGATE-MIB, relative to the module root 1.3.6.1.4.1.<PEN>
NOTIFICATIONS = 0
ALARM_RAISED, ALARM_CLEARED = 1, 2
OBJECTS = 1
SITE, STRING_TABLE, UNIT_TABLE, ALARM_TABLE = 1, 2, 3, 4
ENTRY = 1

SITE_NAME, SITE_VERSION, SITE_AGE, SITE_AMBIENT, SITE_HUMIDITY = 1, 2, 3, 4, 5
SITE_STRINGS, SITE_UNITS, SITE_ACTIVE_ALARMS = 6, 7, 8

(
    STR_NAME,
    STR_CHEMISTRY,
    STR_VOLTAGE,
    STR_CURRENT,
    STR_RIPPLE,
    STR_SPREAD,
    STR_SOC,
    STR_RUNTIME,
    STR_MODE,
    STR_UNITS,
) = range(2, 12)

(
    UNIT_STRING,
    UNIT_POSITION,
    UNIT_MODEL,
    UNIT_VOLTAGE,
    UNIT_TEMPERATURE,
    UNIT_RI,
    UNIT_RI_BASELINE,
    UNIT_SOC,
    UNIT_SOH,
    UNIT_DUTY,
    UNIT_STATUS,
    UNIT_AGE,
    UNIT_PSOC,
    UNIT_BUS,
    UNIT_ADDRESS,
    UNIT_CHANNEL,
) = range(2, 18)

(
    ALARM_CODE,
    ALARM_LEVEL,
    ALARM_SOURCE,
    ALARM_MESSAGE,
    ALARM_RAISED_AT,
    ALARM_CLEARED_AT,
    ALARM_ACKED_BY,
    ALARM_VALUE,
    ALARM_STATE,
) = range(2, 11)

STRING_MODES = {"float": 1, "charge": 2, "discharge": 3, "rest": 4, "unknown": 5}
UNIT_STATUSES = {
    "ok": 1,
    "warning": 2,
    "alarm": 3,
    "comm_lost": 4,
    "stale": 5,
    "no_data": 6,
    "out_of_range": 7,
}
UNIT_STATUS_UNKNOWN = 8
LEVELS = {"info": 1, "warning": 2, "alarm": 3}
ALARM_STATES = {"raised": 1, "cleared": 2, "acknowledged": 3}

#: the notification objects, in the order CELLGATE-MIB's NOTIFICATION-TYPEs list them
NOTIFICATION_OBJECTS = (ALARM_CODE, ALARM_LEVEL, ALARM_SOURCE, ALARM_MESSAGE, ALARM_VALUE, ALARM_STATE)


def module_root(enterprise_number: int) -> Oid:
    """1.3.6.1.4.1.<PEN>: where CELLGATE-MIB lives for this agent."""
    return (*ENTERPRISES, enterprise_number)


def view_subtrees(name: str, enterprise_number: int) -> list[Oid]:
    """The OID subtrees a named view (or a dotted OID) covers."""
    named = {
        "system": [SYSTEM],
        "ups": [UPS_MIB],
        "cellgate": [module_root(enterprise_number)],
    }
    if name == "all":
        return [*named["system"], *named["ups"], *named["cellgate"]]
    if name in named:
        return named[name]
    return [tuple(int(p) for p in name.strip(".").split("."))]


def mib_text(enterprise_number: int = DOCUMENTATION_PEN) -> str:
    """CELLGATE-MIB as shipped, rooted at ``enterprises.<enterprise_number>``."""
    text = (resources.files(__package__) / "MIB" / "CELLGATE-MIB.txt").read_text(encoding="utf-8")
    if enterprise_number != DOCUMENTATION_PEN:
        text = text.replace(
            f"::= {{ enterprises {DOCUMENTATION_PEN} }}", f"::= {{ enterprises {enterprise_number} }}"
        )
    return text
