"""The addressing wizard's session on a polling bus master, on the simulator: button presses,
next ids, two monitors in learn mode, refusals, and polling that goes on meanwhile."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import CycleResult, bindings_for_line
from gateway.core.bus.wizard import Assigned, Wizards, config_hint
from gateway.core.clock import ScaledClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.config import GatewayConfig
from gateway.core.events import Event, EventBus
from gateway.core.model import ChannelReading, Quality
from plugins.monitors.plugin import BLOCK_DRIVERS, SENSOR_DRIVERS
from plugins.simulator.options import SimOptions
from plugins.simulator.transport import SimTransport
from tests.waiting import until

DRIVERS = {c.model: c for c in (*BLOCK_DRIVERS, *SENSOR_DRIVERS)}
WORLDS = itertools.count(1)
SPEED = 5.0  # simulated time runs 5× real time: learn mode (60 s simulated) lasts 12 s real


@dataclass
class Line:
    master: BusMaster
    transport: SimTransport
    events: EventBus
    clock: ScaledClock
    cycles: list[CycleResult] = field(default_factory=list)
    seen: list[Event] = field(default_factory=list)

    @property
    def world(self) -> Any:
        return self.transport.world

    def fresh_serials(self) -> list[int]:
        return [d.serial for d in self.world.devices() if d.address == 247]

    def wizard_events(self, code: str | None = None) -> list[Event]:
        return [e for e in self.seen if e.code.startswith("wizard_") and (code is None or e.code == code)]


@pytest.fixture
async def line() -> AsyncIterator[Callable[..., Any]]:
    """A polling bus master on a simulated line of C20s; the last ``factory_fresh`` sit at 247."""
    made: list[tuple[Line, asyncio.Task[None]]] = []

    async def make(count: int = 6, factory_fresh: int = 3) -> Line:
        config = GatewayConfig.model_validate(
            {
                "lines": [{"name": "bus1", "url": f"sim://wizard{next(WORLDS)}"}],
                "strings": [
                    {
                        "name": "A",
                        "units": {"model": "C20", "count": count, "bus": "bus1", "first_address": 1},
                    }
                ],
            }
        )
        clock = ScaledClock(SPEED)
        events = EventBus()
        ctx = GatewayContext(clock, CommandQueue(), events, config_dir=".", data_dir=".")  # type: ignore[arg-type]
        ctx.config = config
        cfg_line = config.lines[0]
        transport = SimTransport(cfg_line.url, SimOptions(factory_fresh=factory_fresh, seed=2), ctx)
        result = Line(None, transport, events, clock)  # type: ignore[arg-type]
        result.master = BusMaster(
            cfg_line,
            transport,
            bindings_for_line(config, "bus1", DRIVERS),
            DRIVERS,
            ctx,
            result.cycles.append,
            BusSettings(cycle_s=1.0, timeout_s=0.02),
        )
        result.master.ri_permitted = lambda _a: False
        sub = events.subscribe()

        async def collect() -> None:
            async for event in sub:
                result.seen.append(event)

        made.append((result, asyncio.create_task(collect())))
        await result.master.start()
        await until(lambda: result.cycles, what="the first cycle (the master opens the line)")
        return result

    yield make
    for made_line, collector in made:
        await made_line.master.stop()
        collector.cancel()
        with pytest.raises(asyncio.CancelledError):
            await collector


async def press_one_at_a_time(line: Line, serials: list[int]) -> None:
    """An installer walks from monitor to monitor, pressing the next button once the last took its id."""
    for serial in serials:
        line.world.press_button(serial=serial)
        await until(
            lambda s=serial: line.world.by_serial(s).address != 247, what=f"serial {serial} addressed"
        )


def good_addresses(cycle: CycleResult) -> set[int]:
    return {r.address for r in cycle.readings if isinstance(r, ChannelReading) and r.quality is Quality.GOOD}


# ---------------------------------------------------------------------------------- the session


async def test_three_fresh_monitors_get_the_next_ids_while_the_line_keeps_polling(line) -> None:
    bus: Line = await line(count=6, factory_fresh=3)
    fresh = bus.fresh_serials()
    assert len(fresh) == 3
    await until(lambda: len(bus.cycles) >= 2, what="polling runs")
    assert good_addresses(bus.cycles[-1]) == {1, 2, 3}  # 4–6 are still at 247

    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    assert wizards.start("bus1", 4).ok
    cycles_at_start = len(bus.cycles)
    await press_one_at_a_time(bus, fresh)
    await until(lambda: len(bus.wizard_events("wizard_assigned")) == 3, what="three assigned events")
    assert len(bus.cycles) > cycles_at_start + 1  # polling went on during the session
    assert wizards.stop("bus1").ok
    await until(lambda: bus.wizard_events("wizard_stopped"), what="stopped event")

    assigned = [e.data for e in bus.wizard_events("wizard_assigned")]
    assert [(a["address"], a["serial"], a["model"]) for a in assigned] == [
        (4, fresh[0], "C20"),
        (5, fresh[1], "C20"),
        (6, fresh[2], "C20"),
    ]
    assert all(a["configured"] for a in assigned)  # the config binds 4–6: polled from now on
    waiting = [e.data["next_address"] for e in bus.wizard_events("wizard_waiting")]
    assert waiting == [4, 5, 6, 7]
    stopped = bus.wizard_events("wizard_stopped")[-1]
    assert stopped.data["reason"] == "stopped by request"
    assert stopped.data["config_hint"] == []
    assert all(e.kind == "monitor" and e.source == "lines[bus1]" for e in bus.wizard_events())
    # and the three are polled like the others now (comm-lost units are probed every few cycles)
    await until(lambda: good_addresses(bus.cycles[-1]) == {1, 2, 3, 4, 5, 6}, what="4–6 polled")
    assert [bus.world.by_serial(s).address for s in fresh] == [4, 5, 6]
    await wizards.close()


async def test_monitors_the_config_lacks_are_reported_with_the_units_entry_to_add(line) -> None:
    bus: Line = await line(count=3, factory_fresh=2)  # 1 is configured and answers; 2, 3 are fresh
    fresh = bus.fresh_serials()
    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    assert wizards.start("bus1", 20).ok
    await press_one_at_a_time(bus, fresh)
    await until(lambda: len(bus.wizard_events("wizard_assigned")) == 2, what="two assigned")
    await wizards.close()
    stopped = bus.wizard_events("wizard_stopped")[-1].data
    assert [(a["address"], a["configured"]) for a in stopped["assigned"]] == [(20, False), (21, False)]
    assert stopped["config_hint"] == ["units: {model: C20, count: 2, bus: bus1, first_address: 20}"]
    # reported, not polled: the master still polls only what the config binds
    assert set(bus.master.units) == {1, 2, 3}
    assert "not in the config yet" in bus.wizard_events("wizard_assigned")[0].message


async def test_two_monitors_in_learn_mode_are_reset_and_the_wizard_says_so(line) -> None:
    bus: Line = await line(count=4, factory_fresh=2)
    fresh = bus.fresh_serials()
    for serial in fresh:  # two buttons pressed at once
        bus.world.press_button(serial=serial)
    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    assert wizards.start("bus1", 3).ok
    problem = await until(lambda: bus.wizard_events("wizard_two_in_learn_mode"), what="two-in-learn event")
    assert "Press one button at a time" in problem[0].message
    assert problem[0].level == "warning"
    assert [bus.world.by_serial(s).address for s in fresh] == [247, 247]  # none half-addressed
    session = wizards.sessions["bus1"]
    assert session.running
    assert session.next_address == 3
    bus.world.press_button(serial=fresh[0])
    await until(lambda: bus.wizard_events("wizard_assigned"), what="the single press is assigned")
    assert bus.wizard_events("wizard_assigned")[0].data["serial"] == fresh[0]
    await wizards.close()


async def test_a_taken_start_address_ends_the_session_with_a_clear_reason(line) -> None:
    bus: Line = await line(count=4, factory_fresh=1)
    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    assert wizards.start("bus1", 2).ok
    stopped = await until(lambda: bus.wizard_events("wizard_stopped"), what="stopped")
    assert stopped[0].level == "warning"
    assert "address 2 is already used by C20 serial" in stopped[0].data["reason"]
    assert not wizards.sessions["bus1"].running


async def test_the_session_ends_when_nobody_presses_a_button(line) -> None:
    bus: Line = await line(count=2, factory_fresh=1)
    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    assert wizards.start("bus1", 2, wait_s=0.5).ok
    stopped = await until(lambda: bus.wizard_events("wizard_stopped"), what="stopped")
    assert stopped[0].data["reason"].startswith("no button was pressed for")
    assert stopped[0].data["assigned"] == []


async def test_commands_that_cannot_run_are_refused_with_the_reason(line) -> None:
    bus: Line = await line(count=2, factory_fresh=1)
    wizards = Wizards({"bus1": bus.master}, bus.events, bus.clock)
    refused = wizards.start("bus9", 2)
    assert not refused.ok
    assert "no line 'bus9'" in refused.message
    assert not wizards.start("bus1", 247).ok
    assert not wizards.start("bus1", 0).ok
    assert not wizards.stop("bus1").ok  # nothing runs
    assert wizards.start("bus1", 2).ok
    again = wizards.start("bus1", 5)
    assert not again.ok
    assert "already runs" in again.message
    assert wizards.stop("bus1").ok
    await until(lambda: not wizards.sessions["bus1"].running, what="session ended")
    assert wizards.start("bus1", 2).ok  # a new session once the last one ended
    await wizards.close()


async def test_borrowing_the_line_pauses_polling_which_resumes_after(line) -> None:
    from gateway.core.bus.tools import read_identity

    bus: Line = await line(count=2, factory_fresh=0)
    async with bus.master.exclusive() as rtu:
        held = len(bus.cycles)
        await asyncio.sleep(1.0)  # five cycle periods of simulated time
        assert len(bus.cycles) == held
        ident = await read_identity(rtu, 2)  # the borrower has the line to itself
        assert ident is not None
    await until(lambda: len(bus.cycles) > held + 1, what="polling resumed")


async def test_one_garbled_reply_is_line_noise_not_two_monitors(line) -> None:
    from gateway.core.bus.rtu import CrcError
    from gateway.core.bus.tools import FACTORY_RESET, IDENTITY_BLOCK, offer_address

    bus: Line = await line(count=1, factory_fresh=0)
    async with bus.master.exclusive() as rtu:
        registers = await rtu.read(1, IDENTITY_BLOCK)

    class NoisyOnce:
        """A line whose first reply arrives garbled, as noise does now and then."""

        def __init__(self) -> None:
            self.reads = 0
            self.writes: list[tuple[int, Any]] = []

        async def write(self, address: int, op: Any) -> None:
            self.writes.append((address, op))

        async def read(self, address: int, block: Any) -> Any:
            self.reads += 1
            if self.reads == 1:
                raise CrcError("bad CRC")
            return registers

    noisy = NoisyOnce()
    ident = await offer_address(noisy, 1)  # type: ignore[arg-type]
    assert ident is not None
    assert ident.serial == bus.world.monitor(1).serial
    assert (1, FACTORY_RESET) not in noisy.writes  # nobody was reset


def test_the_config_hint_groups_consecutive_addresses_of_one_model_and_counts_channels() -> None:
    def a(address: int, model: str = "C20", channels: int = 1, configured: bool = False) -> Assigned:
        return Assigned(address, 1000 + address, model, "1.0", channels, configured)

    hint = config_hint(
        "bus2", [a(31), a(30), a(32, configured=True), a(33), a(40, "C20ex3", 3), a(41, "C20ex3", 3)]
    )
    assert hint == [
        "units: {model: C20, count: 2, bus: bus2, first_address: 30}",
        "units: {model: C20, count: 1, bus: bus2, first_address: 33}",
        "units: {model: C20ex3, count: 6, bus: bus2, first_address: 40}",
    ]
