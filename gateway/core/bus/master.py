"""The bus master of one RS-485 line: one task that polls every device, cycle after cycle.

A cycle: broadcast MEASURE, the measure wait, one read per device, then the writes that
are due (watchdog, Ri, bypass, relays). The cycle schedule follows the gateway clock; reply
timeouts, silences and the reopen backoff are real time (see ``rtu.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from gateway.core.bus.driver import BROADCAST, PolledDriver, Reading
from gateway.core.bus.health import PROBES_WHILE_DOWN, HealthTracker
from gateway.core.bus.rtu import BusError, ExceptionReply, LineDown, LineTiming, RtuClient
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import CycleResult, MonitorBinding, UnitState
from gateway.core.bus.writes import WriteScheduler
from gateway.core.components import GatewayContext, MonitorDriver, Transport
from gateway.core.events import Event
from gateway.core.logging import get_logger
from gateway.core.model import LineStats, StringMode

log = get_logger("gateway.bus")

RI_MODES = (StringMode.FLOAT, StringMode.REST)


class BusMaster:
    """Polls one line; hands every cycle's readings, events and statistics to ``on_cycle``."""

    def __init__(
        self,
        line: Any,
        transport: Transport,
        bindings: list[MonitorBinding],
        drivers: Mapping[str, type[MonitorDriver]],
        ctx: GatewayContext,
        on_cycle: Callable[[CycleResult], None],
        settings: BusSettings | None = None,
    ) -> None:
        self.line = line
        self.name: str = line.name
        self.transport = transport
        self.ctx = ctx
        self.on_cycle = on_cycle
        self.settings = settings or BusSettings.model_validate(getattr(line, "polling", None) or {})
        if hasattr(transport, "line_baud"):
            transport.line_baud = int(line.baud)  # transports take the line's speed unless overridden
        baud = int(getattr(transport, "baud", line.baud))
        self.rtu = RtuClient(
            transport, LineTiming(baud, emulated=transport.char_time_s > 0), self.settings.timeout_s
        )
        self.units: dict[int, UnitState] = {}
        #: model code → name of every driver known, to name what was found at a wrong address
        self.known_models: dict[int, str] = {
            int(getattr(cls, "code", -1)): name for name, cls in drivers.items()
        }
        for b in sorted(bindings, key=lambda b: b.address):
            cls = drivers.get(b.model)
            if cls is None or not issubclass(cls, PolledDriver):
                raise ValueError(f"line {self.name}: no polling driver for model {b.model!r} at {b.address}")
            driver = cls(b.options, ctx.config_dir)
            self.units[b.address] = UnitState(b, driver, wanted_duties=[0.0] * max(1, driver.channels))
        #: may a unit measure Ri now? By default: only while its string floats or rests
        self.ri_permitted: Callable[[int], bool] = self._ri_permitted_by_snapshot
        self.health = HealthTracker(self)
        self.writes = WriteScheduler(self)
        self.writes.schedule_ri_start(ctx.clock.monotonic())
        self.state = "down"
        self._task: asyncio.Task[None] | None = None
        #: held for each cycle, and by whoever borrows the line between cycles (see exclusive)
        self._line_lock = asyncio.Lock()
        self._stopping = False
        self._open = False
        self._reopen_backoff = 0.25
        self._next_open = 0.0
        self._last_cycle_s: float | None = None
        self.cycles = 0

    # ------------------------------------------------------------------ engine interface
    async def start(self) -> None:
        """Start the line's task; opening the line is retried there, so start never fails on I/O."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"bus-master-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    def set_bypass(self, address: int, channel: int, duty: float) -> None:
        """Wanted bypass duty 0–1 of one channel; written when changed or before the watchdog expires."""
        unit = self._unit(address)
        if not unit.driver.has_bypass:
            return  # the engine equalizes every unit; a device without bypass simply has none
        if not 0 <= channel < len(unit.wanted_duties):
            raise ValueError(f"{unit.binding.model} at {address} has no channel {channel}")
        unit.wanted_duties[channel] = max(0.0, min(1.0, float(duty)))

    def set_relay(self, address: int, relay: int, on: bool) -> None:
        unit = self._unit(address)
        if not 0 <= relay < unit.driver.relays:
            raise ValueError(f"{unit.binding.model} at {address} has no relay {relay}")
        unit.wanted_relays[relay] = bool(on)

    def request_ri(self, address: int, channel: int = 0) -> None:
        """Measure Ri at the next chance (still only while permitted; bypass paused for it)."""
        unit = self._unit(address)
        if not unit.driver.has_ri:
            raise ValueError(f"{unit.binding.model} at {address} does not measure Ri")
        unit.ri_requested = True

    def stats(self) -> LineStats:
        c = self.rtu.line
        return LineStats(
            name=self.name,
            url=self.transport.url,
            state=self.state,
            requests=c.requests,
            timeouts=c.timeouts,
            crc_errors=c.crc_errors,
            exceptions=c.exceptions,
            latency_ms=c.latency_ms,
            cycle_s=self._last_cycle_s,
            units_comm_lost=sum(1 for u in self.units.values() if u.comm_lost),
            devices=tuple(s for _, s in sorted(self.health.unit_stats().items())),
        )

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[RtuClient]:
        """Borrow the line between two cycles: ``async with master.exclusive() as rtu: ...``.

        Polling waits while the block runs and resumes after it, so borrowers keep their
        blocks short (one exchange or two) to keep the line's cycle time. Raises
        :class:`LineDown` when the line is not open (reopening keeps the master's backoff).
        """
        async with self._line_lock:
            if not self._open:
                await self._try_open()
                if not self._open:
                    raise LineDown(f"{self.transport.url} is not open")
            yield self.rtu

    # ------------------------------------------------------------------ the loop
    async def run_once(self) -> CycleResult:
        """Open the line if needed and run one cycle now (the CLI's ``bus poll --once``)."""
        async with self._line_lock:
            if not self._open:
                await self._try_open(force=True)
            result = await self._cycle()
        self.on_cycle(result)
        return result

    async def _run(self) -> None:
        clock = self.ctx.clock
        while not self._stopping:
            started = clock.monotonic()
            try:
                async with self._line_lock:
                    started = clock.monotonic()  # a borrower may have held the line until now
                    if not self._open:
                        await self._try_open()
                    result = await self._cycle()
                self.on_cycle(result)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug in a driver or the engine's callback must not end polling of the line.
                log.exception("bus cycle failed", line=self.name)
            wait = started + self.settings.cycle_s - clock.monotonic()
            if wait > 0:
                await clock.sleep(wait)
            elif not self._open:
                await asyncio.sleep(max(0.05, self._next_open - time.monotonic()))
            else:
                await asyncio.sleep(0)  # back-to-back cycles still let the loop breathe

    async def _try_open(self, force: bool = False) -> None:
        if not force and time.monotonic() < self._next_open:
            return
        try:
            await self.transport.open()
        except (OSError, ValueError) as e:
            self._reopen_backoff = min(self._reopen_backoff * 2, self.settings.reconnect_max_s)
            self._next_open = time.monotonic() + self._reopen_backoff
            self.health.line_unavailable(f"cannot open {self.transport.url}: {e}", "reconnecting")
            return
        self._open = True
        self._reopen_backoff = 0.25

    async def _close(self) -> None:
        self._open = False
        with contextlib.suppress(Exception):
            await self.transport.close()

    async def _cycle(self) -> CycleResult:
        started = time.monotonic()
        events: list[Event] = []
        readings: list[Reading] = []
        self.cycles += 1
        # every monitor samples on the broadcast at the cycle's start: that is the readings' time
        now = self.ctx.clock.now()
        if self._open:
            try:
                readings = await self._poll_all(now)
                await self.writes.run()
            except LineDown as e:
                await self._close()
                self._next_open = time.monotonic() + self._reopen_backoff
                self.health.line_unavailable(f"{self.transport.url}: {e}", "reconnecting")
                readings = []
        readings = self.health.complete(readings, now)
        events.extend(self.health.take_events())
        duration = time.monotonic() - started
        self._last_cycle_s = duration
        return CycleResult(
            line=self.name,
            time=now,
            readings=readings,
            comm_lost=self.health.comm_lost_addresses(),
            identity_problems=self.health.identity_problems(),
            events=events,
            unit_stats=self.health.unit_stats(),
            line_stats=self.stats(),
            duration_s=duration,
        )

    async def _poll_all(self, now: float) -> list[Reading]:
        """Broadcast MEASURE, wait, then one poll per device; decides whether the line is up."""
        s = self.settings
        if s.broadcast_measure and any(u.driver.measures_on_broadcast for u in self.units.values()):
            await self.rtu.write(BROADCAST, PolledDriver.encode_measure())
            # the monitors' 50 ms run on their own time: simulated when the gateway clock is
            await self.ctx.clock.sleep(s.measure_wait_s)
        readings: list[Reading] = []
        self.health.start_cycle()
        units = list(self.units.values())
        if self.state != "up" and units:
            # a silent line is probed a few devices a cycle: start elsewhere each time, so
            # dead monitors at the first addresses cannot hide a line that is back
            k = self.cycles * PROBES_WHILE_DOWN % len(units)
            units = units[k:] + units[:k]
        for unit in units:
            if not self.health.should_poll(unit):
                continue
            got = await self.health.poll(unit, self.rtu, now)
            if got is not None:
                readings.extend(got)
        self.health.end_of_polls()
        return readings

    # ------------------------------------------------------------------ helpers
    def _unit(self, address: int) -> UnitState:
        unit = self.units.get(address)
        if unit is None:
            raise KeyError(f"no device at address {address} on line {self.name}")
        return unit

    def _ri_permitted_by_snapshot(self, address: int) -> bool:
        snap = self.ctx.snapshot()
        for s in snap.strings:
            for u in s.units:
                if u.bus == self.name and u.address == address:
                    return s.mode in RI_MODES
        return False

    async def transact(self, address: int, op: Any) -> Any:
        """One request with the configured retries (writes and reads outside the poll)."""
        last: BusError | None = None
        for _ in range(1 + self.settings.retries):
            try:
                return await self.rtu.execute(address, op)
            except LineDown:
                raise
            except ExceptionReply:
                raise  # an answer, not a transmission error: retrying cannot change it
            except BusError as e:
                last = e
        assert last is not None
        raise last
