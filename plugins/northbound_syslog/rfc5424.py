"""RFC 5424 messages for events: header, structured data (alarm code, string, unit, severity,
value, who did it) and the event's sentence; plus RFC 6587 octet-counting framing for TCP/TLS.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any

from gateway.core.events import Event

# RFC 5424 section 6.2.1 severities
EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG = range(8)
LEVEL_SEVERITY = {"alarm": ERROR, "warning": WARNING, "info": INFO}

_UNIT_SOURCE = re.compile(r"^strings\[(\d+)\](?:\.units\[(\d+)\])?")
_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")
BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Header:
    """The fixed parts of every message from this gateway."""

    facility: int
    hostname: str
    app_name: str
    sd_id: str  # e.g. "cellgate@32473"
    procid: str = str(os.getpid())


def severity_of(event: Event) -> int:
    """An alarm that clears is news, not an error: notice; otherwise by the event's level."""
    if event.kind == "alarm" and event.state == "cleared":
        return NOTICE
    return LEVEL_SEVERITY.get(event.level, INFO)


def _header_field(value: str, max_len: int) -> str:
    """PRINTUSASCII, no spaces, bounded; NILVALUE when empty (RFC 5424 section 6.2)."""
    value = _PRINTUSASCII.sub("_", value)[:max_len]
    return value or "-"


def _param_value(value: Any) -> str:
    """PARAM-VALUE escaping: ``"``, ``\\`` and ``]`` get a backslash (RFC 5424 section 6.3.3)."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(event: Event) -> dict[str, Any]:
    """The SD parameters of an event: what a SIEM filters on. String and unit are 1-based."""
    params: dict[str, Any] = {"id": event.id, "kind": event.kind, "code": event.code, "severity": event.level}
    if event.state:
        params["state"] = event.state
    params["source"] = event.source
    m = _UNIT_SOURCE.match(event.source)
    string = event.data.get("string")
    unit = event.data.get("position", event.data.get("unit"))
    if m:
        string = int(m.group(1)) + 1 if string is None else string
        if m.group(2) is not None and unit is None:
            unit = int(m.group(2)) + 1
    if string is not None:
        params["string"] = string
    if unit is not None:
        params["unit"] = unit
    for key in ("value", "threshold", "alarm_id"):
        if event.data.get(key) is not None:
            params[key] = event.data[key]
    if event.actor is not None:
        params["user"] = event.actor.user
        params["via"] = event.actor.via
        if event.actor.source:
            params["from"] = event.actor.source
    return params


def format_message(event: Event, header: Header) -> bytes:
    """One RFC 5424 message (no framing), UTF-8 with BOM as section 6.4 asks."""
    pri = header.facility * 8 + severity_of(event)
    ts = dt.datetime.fromtimestamp(event.time, dt.UTC).isoformat(timespec="microseconds")
    ts = ts.replace("+00:00", "Z")
    msgid = _header_field(event.code, 32)
    sd = " ".join(f'{name}="{_param_value(v)}"' for name, v in structured_data(event).items())
    head = (
        f"<{pri}>1 {ts} {_header_field(header.hostname, 255)} {_header_field(header.app_name, 48)} "
        f"{_header_field(header.procid, 128)} {msgid} [{header.sd_id} {sd}] "
    )
    return head.encode("utf-8") + BOM + event.message.encode("utf-8")


def format_notice(text: str, header: Header, severity: int, params: dict[str, Any], now: float) -> bytes:
    """A message about the log stream itself (e.g. how many messages were dropped)."""
    ts = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    sd = " ".join(f'{k}="{_param_value(v)}"' for k, v in params.items())
    head = (
        f"<{header.facility * 8 + severity}>1 {ts} {_header_field(header.hostname, 255)} "
        f"{_header_field(header.app_name, 48)} {_header_field(header.procid, 128)} syslog_dropped "
        f"[{header.sd_id} {sd}] "
    )
    return head.encode("utf-8") + BOM + text.encode("utf-8")


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 section 3.4.1 framing: ``MSG-LEN SP SYSLOG-MSG``."""
    return b"%d %s" % (len(message), message)


def truncate(message: bytes, limit: int) -> bytes:
    """Cut at ``limit`` bytes without splitting a UTF-8 character."""
    if len(message) <= limit:
        return message
    cut = message[:limit]
    return cut.decode("utf-8", errors="ignore").encode("utf-8")
