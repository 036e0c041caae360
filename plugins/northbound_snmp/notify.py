"""Notifications on alarm transitions: cgAlarmRaised / cgAlarmCleared to every configured
manager, as v2c traps or v3 traps/informs, from the agent's own engine (its fixed engine id).

Each manager gets its own target parameters, address and tag: a target shared between
credentials makes pysnmp send every later notification twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import plugins.northbound_snmp.compat  # noqa: F401  (quiets pysnmp's import of pysmi)

# isort: split
from pysnmp.entity import config as pconfig
from pysnmp.entity.rfc3413 import ntforg
from pysnmp.proto import rfc1902

from gateway.core.components import GatewayContext
from gateway.core.events import Event
from gateway.core.logging import get_logger
from plugins.northbound_snmp import mib
from plugins.northbound_snmp.config import SnmpConfig
from plugins.northbound_snmp.security import grant

log = get_logger("plugins.northbound_snmp.notify")

#: a tag no target address carries: communities used only for traps never authorize requests
NOTIFY_ONLY_TAG = "cg-notify-only"


class Notifier:
    """Subscribes to the event bus and turns alarm transitions into SNMP notifications."""

    def __init__(
        self, engine: Any, cfg: SnmpConfig, ctx: GatewayContext, uptime_ticks: Callable[[], int]
    ) -> None:
        self.engine = engine
        self.cfg = cfg
        self.ctx = ctx
        self.uptime_ticks = uptime_ticks
        self.root = mib.module_root(cfg.enterprise_number)
        self.targets: list[str] = []
        self.sent = 0
        self.failed = 0
        self._originator = ntforg.NotificationOriginator()
        self._sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._failing: set[str] = set()  # managers whose last inform failed: log once, not each time

    def start(self) -> None:
        if not self.cfg.managers:
            return
        self._configure_targets()
        self._sub = self.ctx.events.subscribe(maxsize=1000)
        self._task = asyncio.create_task(self._run(), name="snmp-notifier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._sub is not None:
            self.ctx.events.unsubscribe(self._sub)
            self._sub = None

    # ------------------------------------------------------------------ configuration
    def _configure_targets(self) -> None:
        from pysnmp.carrier.asyncio.dgram import udp

        from plugins.northbound_snmp.agent import V2C_SECURITY_NAME

        cfg = self.cfg
        notify_view = [self.root]
        read_community = (
            cfg.v2c.community.get_secret_value()
            if cfg.v2c.enabled and cfg.v2c.community is not None
            else None
        )
        communities: dict[str, str] = {}
        for i, m in enumerate(cfg.managers):
            params, addr, name, tag = f"cg-p{i}", f"cg-a{i}", f"cg-n{i}", f"cg-t{i}"
            if m.version == "v2c":
                assert m.community is not None
                community = m.community.get_secret_value()
                if community == read_community:
                    sec_name = V2C_SECURITY_NAME  # already in the community table, with notify view
                elif community in communities:
                    sec_name = communities[community]
                else:
                    sec_name = communities[community] = f"cg-trap{len(communities)}"
                    pconfig.add_v1_system(
                        self.engine, sec_name, community, securityName=sec_name, transportTag=NOTIFY_ONLY_TAG
                    )
                    grant(self.engine, 2, sec_name, "noAuthNoPriv", read=[], notify=notify_view)
                pconfig.add_target_parameters(self.engine, params, sec_name, "noAuthNoPriv", 1)
            else:
                assert m.user is not None
                pconfig.add_target_parameters(self.engine, params, m.user.get_secret_value(), "authPriv", 3)
            pconfig.add_target_address(
                self.engine,
                addr,
                udp.DOMAIN_NAME,
                (m.host, m.port),
                params,
                timeout=int(m.timeout_s * 100),
                retryCount=m.retries,
                tagList=tag,
            )
            pconfig.add_notification_target(self.engine, name, params, tag, m.notify_type)
            self.targets.append(name)

    # ------------------------------------------------------------------ sending
    async def _run(self) -> None:
        assert self._sub is not None
        while True:
            event = await self._sub.get()
            if event.kind != "alarm" or event.state not in ("raised", "cleared"):
                continue
            try:
                self.send(event)
            except Exception:  # one bad event must not stop notifications for good
                log.exception("snmp notification failed", event_id=event.id, code=event.code)

    def varbinds(self, event: Event) -> list[tuple[rfc1902.ObjectName, Any]]:
        """sysUpTime, snmpTrapOID and the alarm's objects, instance = its alarm id."""
        alarm_id = int(event.data.get("alarm_id") or event.id or 1) & 0xFFFFFFFF or 1
        which = mib.ALARM_RAISED if event.state == "raised" else mib.ALARM_CLEARED
        entry = (*self.root, mib.OBJECTS, mib.ALARM_TABLE, mib.ENTRY)
        value = event.data.get("value")
        objects: dict[int, Any] = {
            mib.ALARM_CODE: rfc1902.OctetString(event.code.encode()[:255]),
            mib.ALARM_LEVEL: rfc1902.Integer32(mib.LEVELS.get(event.level, 3)),
            mib.ALARM_SOURCE: rfc1902.OctetString(event.source.encode()[:255]),
            mib.ALARM_MESSAGE: rfc1902.OctetString(event.message.encode()[:255]),
            mib.ALARM_VALUE: rfc1902.OctetString(b"" if value is None else f"{value:g}".encode()),
            mib.ALARM_STATE: rfc1902.Integer32(mib.ALARM_STATES[event.state or "raised"]),
        }
        return [
            (rfc1902.ObjectName(mib.SYS_UPTIME_0), rfc1902.TimeTicks(self.uptime_ticks())),
            (
                rfc1902.ObjectName(mib.SNMP_TRAP_OID),
                rfc1902.ObjectIdentifier((*self.root, mib.NOTIFICATIONS, which)),
            ),
            *(
                (rfc1902.ObjectName((*entry, col, alarm_id)), objects[col])
                for col in mib.NOTIFICATION_OBJECTS
            ),
        ]

    def send(self, event: Event) -> None:
        vbs = self.varbinds(event)
        for target in self.targets:
            self._originator.send_varbinds(self.engine, target, None, b"", vbs, self._done, target)
            self.sent += 1

    def _done(self, _engine: Any, _handle: Any, error_indication: Any, *rest: Any) -> None:
        target = rest[-1]
        if error_indication:
            self.failed += 1
            if target not in self._failing:
                self._failing.add(target)
                log.warning("snmp inform not acknowledged", target=target, error=str(error_indication))
        elif target in self._failing:
            self._failing.discard(target)
            log.info("snmp informs acknowledged again", target=target)
