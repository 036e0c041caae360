"""The ``snmp`` service: a pysnmp agent (v2c read-only, v3 USM with SHA-2/AES, VACM views)
answering from the latest snapshot, and sending notifications on alarm transitions.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any, ClassVar

from gateway.core.components import GatewayContext, Service
from gateway.core.logging import get_logger
from gateway.core.model import Snapshot, StringMode
from plugins.northbound_snmp import mib
from plugins.northbound_snmp.config import SnmpConfig
from plugins.northbound_snmp.instrum import SnapshotInstrumController
from plugins.northbound_snmp.respcache import ResponseCache
from plugins.northbound_snmp.values import AgentIdentity, build_table, ups_string_of

log = get_logger("plugins.northbound_snmp")

V2C_SECURITY_NAME = "cg-v2c"


def default_engine_id(enterprise_number: int, site_name: str) -> str:
    """RFC 3411 engine id: enterprise number, format 5 (octets), 8 octets of the site name's hash.

    Stable across restarts and distinct between sites, so receivers are configured once.
    """
    head = (0x80000000 | enterprise_number).to_bytes(4, "big") + b"\x05"
    return (head + hashlib.sha256(site_name.encode("utf-8")).digest()[:8]).hex()


def make_engine(engine_id: str, state_dir: Path) -> Any:
    """An SNMP engine with our engine id and its boot counter kept under the data folder.

    pysnmp, given an engine id, keeps the counter under the system temp folder (and leaks a
    file handle doing it); RFC 3414 wants it to grow across restarts so receivers accept
    our v3 notifications, so it lives with the rest of the gateway's state.
    """
    from pysnmp.entity import engine as pengine
    from pysnmp.proto import rfc1902

    eng = pengine.SnmpEngine()
    builder = eng.get_mib_builder()
    (id_symbol, boots_symbol) = builder.import_symbols(
        "__SNMP-FRAMEWORK-MIB", "snmpEngineID", "snmpEngineBoots"
    )
    id_symbol.syntax = id_symbol.syntax.clone(rfc1902.OctetString(hexValue=engine_id))
    eng.snmpEngineID = id_symbol.syntax
    boots = 1
    path = state_dir / f"engine-boots-{engine_id}"
    try:
        boots = int(path.read_text().strip()) + 1 if path.exists() else 1
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(str(boots))
        tmp.replace(path)
    except (OSError, ValueError) as e:
        log.warning("snmp engine boots not persisted", path=str(path), error=str(e))
    boots_symbol.syntax = boots_symbol.syntax.clone(max(1, min(boots, 2**31 - 1)))
    return eng


class SnmpService(Service):
    """SNMP agent over UDP on the latest snapshot; notifications to configured managers."""

    Config = SnmpConfig
    summary: ClassVar[str] = "SNMP v2c/v3 agent: CELLGATE-MIB, UPS-MIB upsBattery, alarm notifications"

    def __init__(self, config: SnmpConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: SnmpConfig = config
        self.engine: Any = None
        self.instrum: SnapshotInstrumController | None = None
        self.notifier: Any = None
        self.engine_id = ""
        self.address: tuple[str, int] | None = None  # where it listens, once started
        self._transport: Any = None
        self._started_mono = 0.0
        self._on_battery_since: float | None = None
        self._watch: asyncio.Task[None] | None = None
        self.malformed = 0  # datagrams pysnmp could not even decode
        self.cache: ResponseCache | None = ResponseCache() if config.response_cache else None

    # ------------------------------------------------------------------ start/stop
    async def start(self) -> None:
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config as pconfig
        from pysnmp.entity.rfc3413 import cmdrsp, context

        from plugins.northbound_snmp.notify import Notifier
        from plugins.northbound_snmp.security import grant, setup_users

        cfg = self.config
        site_name = self._site_name()
        self.engine_id = cfg.engine_id or default_engine_id(cfg.enterprise_number, site_name)
        self.engine = eng = make_engine(self.engine_id, self.ctx.data_dir / "snmp")
        self._started_mono = self.ctx.clock.monotonic()

        transport = udp.UdpAsyncioTransport().open_server_mode((cfg.host, cfg.port))
        pconfig.add_transport(eng, udp.DOMAIN_NAME, transport)
        self._transport = transport
        try:
            # pysnmp binds in a future: a port in use surfaces only when it is awaited
            await transport._lport
        except OSError as e:
            eng.close_dispatcher()
            raise RuntimeError(f"SNMP agent cannot listen on {cfg.host}:{cfg.port}: {e.strerror}") from e
        sock = transport.transport.get_extra_info("sockname")
        self.address = (sock[0], sock[1])

        try:
            self._guard_receive(eng)
            depth = setup_users(eng, cfg)
            if cfg.v2c.enabled and cfg.v2c.community is not None:
                pconfig.add_v1_system(
                    eng,
                    V2C_SECURITY_NAME,
                    cfg.v2c.community.get_secret_value(),
                    securityName=V2C_SECURITY_NAME,
                )
                views = [t for v in cfg.v2c.views for t in mib.view_subtrees(v, cfg.enterprise_number)]
                grant(eng, 2, V2C_SECURITY_NAME, "noAuthNoPriv", views, notify=views)
                depth = max(depth, *(len(t) for t in views))

            ident = AgentIdentity(
                enterprise_number=cfg.enterprise_number,
                site_name=site_name,
                sys_contact=cfg.sys_contact,
                sys_location=cfg.sys_location or self._site_location(),
                ups_string=cfg.ups_string,
                battery_low_soc=cfg.battery_low_soc,
                battery_depleted_soc=cfg.battery_depleted_soc,
            )
            self.instrum = SnapshotInstrumController(
                self.ctx.snapshot, lambda snap: build_table(snap, ident), self._dynamic(), depth
            )
            snmp_context = context.SnmpContext(eng)
            snmp_context.unregister_context_name(b"")
            snmp_context.register_context_name(b"", self.instrum)
            for responder in (
                cmdrsp.GetCommandResponder,
                cmdrsp.NextCommandResponder,
                cmdrsp.BulkCommandResponder,
                cmdrsp.SetCommandResponder,
            ):
                responder(eng, snmp_context)

        except Exception:
            eng.close_dispatcher()  # do not leave the socket open when the config is refused
            self.engine = None
            raise

        self.notifier = Notifier(eng, cfg, self.ctx, self._uptime_ticks)
        self.notifier.start()
        self._watch = asyncio.create_task(self._watch_discharge(), name="snmp-discharge-watch")
        log.info(
            "snmp agent listening",
            host=self.address[0],
            port=self.address[1],
            engine_id=self.engine_id,
            v2c=cfg.v2c.enabled,
            users=len(cfg.users),
            managers=len(cfg.managers),
        )

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            try:
                await self._watch
            except asyncio.CancelledError:
                pass
            self._watch = None
        if self.notifier is not None:
            await self.notifier.stop()
            self.notifier = None
        if self.engine is not None:
            self.engine.close_dispatcher()
            self.engine = None
        # let the transport's close callbacks run before the loop may be closed
        await asyncio.sleep(0)

    def _guard_receive(self, eng: Any) -> None:
        """Wrap pysnmp's receive path: answer repeated v2c reads from the response cache, and
        count and drop datagrams that pysnmp's decoder chokes on instead of letting them raise
        out of the event loop callback (pyasn1 raises TypeError on some garbage)."""
        receive = eng.message_dispatcher.receive_message
        dispatcher = eng.transport_dispatcher
        send = dispatcher.send_message
        (in_pkts,) = eng.get_mib_builder().import_symbols("__SNMPv2-MIB", "snmpInPkts")
        captured: list[bytes] = []
        capturing = False

        def send_and_capture(message: bytes, domain: Any, address: Any) -> None:
            if capturing:
                captured.append(message)
            send(message, domain, address)

        def guarded(engine: Any, domain: Any, address: Any, message: bytes) -> Any:
            nonlocal capturing
            cache, instrum = self.cache, self.instrum
            k = cache.key(message) if cache is not None and instrum is not None else None
            version = self.ctx.snapshot().version
            if k is not None:
                hit = cache.lookup(version, *k)  # type: ignore[union-attr]
                if hit is not None:
                    in_pkts.syntax += 1  # the counters still count every request
                    send(hit, domain, address)
                    return None
                instrum.touched_dynamic = False  # type: ignore[union-attr]
                captured.clear()
                capturing = True
            try:
                receive(engine, domain, address, message)
            except Exception as e:
                self.malformed += 1
                if self.malformed == 1:  # once: a scanner must not flood the log
                    log.warning(
                        "snmp: malformed datagram dropped (counted in malformed; logged once)",
                        source=str(address),
                        error=repr(e),
                    )
                return None
            finally:
                capturing = False
            if k is not None and len(captured) == 1 and not instrum.touched_dynamic:  # type: ignore[union-attr]
                cache.store(version, k[0], k[1], captured[0])  # type: ignore[union-attr]
            return None

        eng.message_dispatcher.receive_message = guarded
        dispatcher.send_message = send_and_capture

    # ------------------------------------------------------------------ values that change per request
    def _uptime_ticks(self) -> int:
        return int((self.ctx.clock.monotonic() - self._started_mono) * 100) & 0xFFFFFFFF

    def _dynamic(self) -> dict[mib.Oid, Any]:
        from pysnmp.proto import rfc1902

        root = mib.module_root(self.config.enterprise_number)
        clock = self.ctx.clock

        def uptime(_snap: Snapshot) -> Any:
            return rfc1902.TimeTicks(self._uptime_ticks())

        def age(snap: Snapshot) -> Any:
            return rfc1902.Unsigned32(max(0, min(2**32 - 1, int(clock.now() - snap.time))))

        def on_battery(_snap: Snapshot) -> Any:
            since = self._on_battery_since
            return rfc1902.Integer32(0 if since is None else max(0, int(clock.now() - since)))

        return {
            mib.SYS_UPTIME_0: uptime,
            (*root, mib.OBJECTS, mib.SITE, mib.SITE_AGE, 0): age,
            (*mib.UPS_BATTERY, mib.UPS_SECONDS_ON_BATTERY, 0): on_battery,
        }

    async def _watch_discharge(self) -> None:
        """Remember when the UPS string started discharging (upsSecondsOnBattery)."""
        clock = self.ctx.clock
        # one look per simulated second, but at most ten per real second at high --speed
        period = min(60.0, max(1.0, clock.speed * 0.1))
        while True:
            snap = self.ctx.snapshot()
            s = ups_string_of(snap, self.config.ups_string)
            if s is not None and s.mode is StringMode.DISCHARGE:
                if self._on_battery_since is None:
                    self._on_battery_since = snap.time or clock.now()
            else:
                self._on_battery_since = None
            await clock.sleep(period)

    def _site_name(self) -> str:
        cfg = self.ctx.config
        name = getattr(getattr(cfg, "site", None), "name", None)
        return name or self.ctx.snapshot().site_name or "cellgate"

    def _site_location(self) -> str:
        return getattr(getattr(self.ctx.config, "site", None), "location", "") or ""
