"""The writes a bus master sends after its reads: watchdog, Ri measurements, bypass duties, relays.

Bypass duties go out only when changed, before the monitor's watchdog would expire them,
or when a monitor reports that it did expire one. Relays likewise: the AUX module gets its
relay timeout on join and ON relays are refreshed before it, so a dead gateway opens them.
Ri measurements are staggered over the interval, at most ``ri_concurrent`` at a time on a
line, only while permitted, bypass paused. All of this schedule follows the gateway clock.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gateway.core.bus.driver import WriteOp
from gateway.core.bus.rtu import CrcError, ExceptionReply, ReplyTimeout
from gateway.core.bus.units import UnitState
from gateway.core.logging import get_logger

if TYPE_CHECKING:
    from gateway.core.bus.master import BusMaster

log = get_logger("gateway.bus")
DEVICE_BUSY = 6


def _raw(duties: list[float]) -> list[int]:
    """Duties as the monitor stores them (0.1 %), so float noise never triggers a write."""
    return [round(d * 1000) for d in duties]


class WriteScheduler:
    """Decides which writes are due this cycle and sends them."""

    def __init__(self, master: BusMaster) -> None:
        self.m = master
        self.settings = master.settings

    @property
    def interval_s(self) -> float:
        return self.settings.ri_interval_h * 3600.0

    def schedule_ri_start(self, now: float) -> None:
        """Spread the first Ri slot of each unit over one interval, so the string is never loaded at once."""
        ri_units = [u for u in self.m.units.values() if u.driver.has_ri]
        for i, unit in enumerate(ri_units):
            unit.ri_due = now + self.interval_s * (i + 1) / len(ri_units)

    async def run(self) -> None:
        if self.m.state != "up":
            return  # a silent line would only time out every write
        now = self.m.ctx.clock.monotonic()
        busy = sum(1 for u in self.m.units.values() if u.ri_busy_until > now)
        for unit in self.m.units.values():
            if not unit.usable:
                continue
            try:
                if unit.driver.has_bypass and not unit.watchdog_written:
                    op = unit.driver.encode_watchdog(self.settings.bypass_watchdog_s)
                    if op is not None:
                        await self.m.transact(unit.address, op)
                    unit.watchdog_written = True
                if unit.driver.has_ri and busy < self.settings.ri_concurrent and await self._ri(unit, now):
                    busy += 1
                if unit.driver.has_bypass:
                    await self._bypass(unit, now)
                if unit.driver.relays:
                    await self._relays(unit, now)
            except (ReplyTimeout, CrcError, ExceptionReply) as e:
                # Stays pending: the next cycle tries again; the poll counts the unit's health.
                log.debug("write failed", line=self.m.name, address=unit.address, error=str(e))

    async def _ri(self, unit: UnitState, now: float) -> bool:
        """Start an Ri measurement if one is due and allowed; True when started."""
        if unit.ri_busy_until > now or not (unit.ri_requested or now >= unit.ri_due):
            return False
        if not self.m.ri_permitted(unit.address):
            return False
        if unit.written_duties is None or any(_raw(unit.written_duties)):
            # The monitor refuses RI_MEASURE while bypassing (exception 06): pause it first.
            await self._write_duties(unit, [0.0] * len(unit.wanted_duties), now)
        op = unit.driver.encode_ri_measure()
        if op is None:
            return False
        try:
            await self.m.transact(unit.address, op)
        except ExceptionReply as e:
            if e.code == DEVICE_BUSY:
                return False  # measuring already or bypass still on: next cycle
            raise
        unit.ri_busy_until = now + self.settings.ri_duration_s
        unit.ri_due = now + self.interval_s
        unit.ri_requested = False
        unit.ri_started_once = True
        log.debug("ri measurement started", line=self.m.name, address=unit.address)
        return True

    async def _bypass(self, unit: UnitState, now: float) -> None:
        paused = unit.ri_busy_until > now
        wanted = [0.0] * len(unit.wanted_duties) if paused else list(unit.wanted_duties)
        on = any(_raw(wanted))
        changed = unit.written_duties is None or _raw(unit.written_duties) != _raw(wanted)
        refresh = on and now - unit.bypass_written_at >= self.settings.bypass_watchdog_s / 2
        expired = on and "watchdog_expired" in unit.last_flags
        if changed or refresh or expired:
            await self._write_duties(unit, wanted, now)

    async def _write_duties(self, unit: UnitState, duties: list[float], now: float) -> None:
        op = unit.driver.encode_bypass(duties)
        if op is None:
            return
        await self.m.transact(unit.address, op)
        unit.written_duties = list(duties)
        unit.bypass_written_at = now
        unit.last_flags = unit.last_flags - {"watchdog_expired"}

    async def _relays(self, unit: UnitState, now: float) -> None:
        """Relays that changed, the timeout once per join, and every ON relay before it expires."""
        timeout = self.settings.relay_timeout_s
        if not unit.relay_timeout_written:
            op: WriteOp | None = unit.driver.encode_relay_timeout(timeout)
            if op is not None:
                await self.m.transact(unit.address, op)
            unit.relay_timeout_written = True
        for relay, on in sorted(unit.wanted_relays.items()):
            due = on and bool(timeout) and now - unit.relay_written_at.get(relay, -math.inf) >= timeout / 3
            if unit.written_relays.get(relay) == on and not due:
                continue
            op = unit.driver.encode_relay(relay, on)
            if op is not None:
                await self.m.transact(unit.address, op)
                unit.written_relays[relay] = on
                unit.relay_written_at[relay] = now
