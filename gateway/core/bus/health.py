"""Per-device and per-line health of one bus master: polls with retries, comm-loss, identity, line up/down.

Unavailability is announced once when it starts and once when it ends (events and one log
line each), never every cycle; readings of a device that is lost or not the configured one
carry that as their quality instead of numbers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from gateway.core.bus.driver import (
    IDENTITY_ADDRESS,
    IDENTITY_COUNT,
    READ_INPUT,
    DecodeError,
    Identity,
    ReadBlock,
    Reading,
)
from gateway.core.bus.rtu import CrcError, ExceptionReply, ReplyTimeout, RtuClient
from gateway.core.bus.units import IdentityProblem, UnitState, UnitStats
from gateway.core.events import Event
from gateway.core.logging import get_logger
from gateway.core.model import ChannelReading, Quality

if TYPE_CHECKING:
    from gateway.core.bus.master import BusMaster

log = get_logger("gateway.bus")
IDENTITY_BLOCK = ReadBlock(READ_INPUT, IDENTITY_ADDRESS, IDENTITY_COUNT)
#: units tried per cycle while the line is silent, before giving up on it for this cycle
PROBES_WHILE_DOWN = 3


class HealthTracker:
    """Decides whom to poll, polls with retries and keeps the consequences (events, qualities)."""

    def __init__(self, master: BusMaster) -> None:
        self.m = master
        self.settings = master.settings
        self._events: list[Event] = []
        self._problems: dict[int, IdentityProblem] = {}
        self._line_announced_down = False
        self._seen: dict[int, set[str]] = {}
        self.tried_this_cycle = 0
        self.answered_this_cycle = 0
        self._full_sweep = False

    # ------------------------------------------------------------------ cycle bookkeeping
    def start_cycle(self) -> None:
        self.tried_this_cycle = self.answered_this_cycle = 0
        self._full_sweep = False

    def should_poll(self, unit: UnitState) -> bool:
        probing = self.m.state != "up"
        if probing and self.answered_this_cycle == 0:
            # The line has been silent: try a few units, not all, so a dead line costs little.
            return self.tried_this_cycle < PROBES_WHILE_DOWN
        if probing or self._full_sweep:
            self._full_sweep = True  # the line just came back: everyone gets polled this cycle
            return True
        if unit.comm_lost:
            unit.skipped_cycles += 1
            if unit.skipped_cycles < self.settings.probe_every:
                return False
            unit.skipped_cycles = 0
        return True

    def end_of_polls(self) -> None:
        if self.tried_this_cycle and not self.answered_this_cycle:
            self.line_unavailable("no device answered")
        elif self.answered_this_cycle:
            if self._line_announced_down:
                self._line_announced_down = False
                self._event("line_down", "info", f"line {self.m.name} is back", "cleared", self._line_source)
                log.info("line back", line=self.m.name)
            self.m.state = "up"

    def line_unavailable(self, reason: str, state: str = "down") -> None:
        """The line carries nothing (silent, or the port is gone): announce it once."""
        self.m.state = state
        for unit in self.m.units.values():
            unit.rejoin()  # whatever was on the line may have rebooted meanwhile: re-identify, re-send
        if not self._line_announced_down:
            self._line_announced_down = True
            self._event(
                "line_down", "alarm", f"line {self.m.name} is down: {reason}", "raised", self._line_source
            )
            log.warning("line down", line=self.m.name, reason=reason)

    @property
    def _line_source(self) -> str:
        return f"lines[{self.m.name}]"

    # ------------------------------------------------------------------ one device
    async def poll(self, unit: UnitState, rtu: RtuClient, now: float) -> list[Reading] | None:
        """Read one device (identity first when needed); ``None`` when it did not answer."""
        self.tried_this_cycle += 1
        # one attempt while probing a silent line or a lost unit; retries once the line answers
        single = unit.comm_lost or (self.m.state != "up" and not self.answered_this_cycle)
        attempts = 1 if single else 1 + self.settings.retries
        driver = unit.driver
        reason = ""
        for _ in range(attempts):
            try:
                if driver.has_identity and self.settings.identity_check and unit.identity_ok is not True:
                    ident = Identity.from_registers(await rtu.read(unit.address, IDENTITY_BLOCK))
                    self._check_identity(unit, ident)
                if unit.identity_ok is False:
                    self._answered(unit, now)
                    return self._identity_readings(unit, now)
                blocks: list[list[int]] = []
                for i, block in enumerate(driver.read_plan()):
                    if i and driver.request_pause_s:
                        await asyncio.sleep(driver.request_pause_s)
                    blocks.append(await rtu.read(unit.address, block))
                readings = driver.decode(blocks, self.m.name, unit.address, now)
            except (ReplyTimeout, CrcError, DecodeError) as e:
                reason = str(e)
                continue
            except ExceptionReply as e:
                # It answered, so it is there; it just is not what this driver expects.
                self._answered(unit, now)
                self._once(unit, f"exception:{e.code}", str(e))
                return []
            self._answered(unit, now)
            return self._mark_stale(unit, readings)
        self._failed(unit, reason, now)
        return None

    def _answered(self, unit: UnitState, now: float) -> None:
        self.answered_this_cycle += 1
        unit.failures = 0
        unit.last_ok_time = now
        first = not unit.ever_answered
        unit.ever_answered = True
        if unit.comm_lost:
            unit.comm_lost = False
            self._event(
                "comm_lost",
                "info",
                f"device {unit.address} ({unit.binding.model}) answers again",
                "cleared",
                self._source(unit),
            )
            log.info("device back", line=self.m.name, address=unit.address)
        elif first:
            log.debug("device found", line=self.m.name, address=unit.address)

    def _failed(self, unit: UnitState, reason: str, now: float) -> None:
        unit.failures += 1
        if unit.comm_lost or self.m.state != "up" or unit.failures < self.settings.comm_lost_after:
            return
        unit.comm_lost = True
        unit.skipped_cycles = 0
        unit.rejoin()
        self._event(
            "comm_lost",
            "alarm",
            f"device {unit.address} ({unit.binding.model}) stopped answering: {reason}",
            "raised",
            self._source(unit),
        )
        log.warning("device lost", line=self.m.name, address=unit.address, reason=reason)

    def _mark_stale(self, unit: UnitState, readings: list[Reading]) -> list[Reading]:
        """A block reading whose SEQ did not move after a MEASURE is an old measurement."""
        flags: set[str] = set()
        out: list[Reading] = []
        measured = self.settings.broadcast_measure and unit.driver.measures_on_broadcast
        for reading in readings:
            flags |= reading.flags
            r = reading
            if isinstance(r, ChannelReading) and r.seq is not None:
                if measured and r.seq == unit.last_seq and r.quality is Quality.GOOD:
                    r = dataclasses.replace(r, quality=Quality.STALE)
                if r.ri_ohm is None and not unit.ri_started_once:
                    unit.ri_requested = True  # never measured: do not wait for its slot in the interval
            out.append(r)
        for r in out:
            if isinstance(r, ChannelReading) and r.seq is not None:
                unit.last_seq = r.seq
                break
        unit.last_flags = frozenset(flags)
        return out

    # ------------------------------------------------------------------ identity
    def _check_identity(self, unit: UnitState, ident: Identity) -> None:
        drv, b = unit.driver, unit.binding
        previous, unit.identity = unit.identity, ident
        found = f"{self._model_name(ident.model_code)} serial {ident.serial}"
        expected = b.model + (f" serial {b.expected_serial}" if b.expected_serial is not None else "")
        wrong = (
            ident.model_code != drv.code
            or (b.expected_serial is not None and ident.serial != b.expected_serial)
            or (ident.channels != drv.channels)
        )
        if wrong:
            if ident.channels != drv.channels and ident.model_code == drv.code:
                found += f", {ident.channels} channels"
            problem = IdentityProblem(unit.address, expected, found)
            if self._problems.get(unit.address) != problem:
                self._event(
                    "identity_mismatch",
                    "alarm",
                    f"device {unit.address}: expected {expected}, found {found}; its readings are not used",
                    "raised",
                    self._source(unit),
                )
                log.warning(
                    "identity mismatch",
                    line=self.m.name,
                    address=unit.address,
                    expected=expected,
                    found=found,
                )
            self._problems[unit.address] = problem
            unit.identity_ok = False
            return
        if unit.address in self._problems:
            del self._problems[unit.address]
            self._event(
                "identity_mismatch",
                "info",
                f"device {unit.address} is {expected} again",
                "cleared",
                self._source(unit),
            )
        if previous is not None and previous.serial != ident.serial:
            # a monitor swapped at the same address (the config names no serial): a fact to record
            self._event(
                "monitor_replaced",
                "info",
                f"device {unit.address}: serial {previous.serial} replaced by serial {ident.serial}",
                None,
                self._source(unit),
            )
            log.info("monitor replaced", line=self.m.name, address=unit.address, serial=ident.serial)
        unit.identity_ok = True

    def _identity_readings(self, unit: UnitState, now: float) -> list[Reading]:
        # Re-check now and then: the right monitor may have been fitted meanwhile.
        unit.skipped_cycles += 1
        if unit.skipped_cycles >= self.settings.probe_every:
            unit.skipped_cycles = 0
            unit.identity_ok = None
        return [
            dataclasses.replace(r, flags=r.flags | {"identity_mismatch"})
            for r in unit.driver.unavailable(self.m.name, unit.address, now, Quality.NO_DATA)
        ]

    def _model_name(self, code: int) -> str:
        return self.m.known_models.get(code) or f"model code {code}"

    # ------------------------------------------------------------------ results
    def complete(self, readings: list[Reading], now: float) -> list[Reading]:
        """Add readings saying why for every device that produced none this cycle."""
        have = {r.address for r in readings}
        line_down = self.m.state != "up"
        for unit in self.m.units.values():
            if unit.address in have:
                continue
            if unit.comm_lost or line_down:
                readings.extend(unit.driver.unavailable(self.m.name, unit.address, now, Quality.COMM_LOST))
            elif unit.identity_ok is False:
                readings.extend(self._identity_readings(unit, now))
        return readings

    def take_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def comm_lost_addresses(self) -> frozenset[int]:
        down = self.m.state != "up"
        return frozenset(u.address for u in self.m.units.values() if u.comm_lost or down)

    def identity_problems(self) -> list[IdentityProblem]:
        return list(self._problems.values())

    def unit_stats(self) -> dict[int, UnitStats]:
        out = {}
        for unit in self.m.units.values():
            c = self.m.rtu.unit(unit.address)
            state = (
                "comm_lost"
                if unit.comm_lost
                else "identity_mismatch"
                if unit.identity_ok is False
                else "ok"
                if unit.ever_answered
                else "unknown"
            )
            out[unit.address] = UnitStats(
                unit.address,
                unit.binding.model,
                state,
                c.requests,
                c.timeouts,
                c.crc_errors,
                c.exceptions,
                c.latency_ms,
                unit.failures,
                unit.last_ok_time,
                unit.identity.serial if unit.identity else None,
                unit.identity.firmware_text if unit.identity else None,
            )
        return out

    # ------------------------------------------------------------------ events
    def _source(self, unit: UnitState) -> str:
        return f"lines[{self.m.name}].devices[{unit.address}]"

    def _event(self, code: str, level: str, message: str, state: str | None, source: str) -> None:
        self._events.append(
            Event(
                time=self.m.ctx.clock.now(),
                kind="monitor",
                code=code,
                message=message,
                level=level,
                source=source,
                state=state,
                data={"line": self.m.name},
            )
        )

    def _once(self, unit: UnitState, key: str, message: str) -> None:
        """Log a device's recurring complaint the first time only."""
        seen = self._seen.setdefault(unit.address, set())
        if key not in seen:
            seen.add(key)
            log.warning(message, line=self.m.name, address=unit.address)
