"""The addressing wizard of a running gateway, on the simulator: the session on a polling bus
master, and the whole path — REST API, engine command, wizard, events on the live stream."""

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
from tests.web.browser import SHOTS, chromium_page, needs_chromium

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


async def until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll ``predicate`` in real time until it is truthy (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


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


# ------------------------------------------------------------------- through the running gateway

GATEWAY = """\
site: {{name: Wizard test}}
data_dir: state
authenticators: [{{type: local, create_initial_admin: false}}]
lines:
  - name: bus1
    url: sim://wizweb{n}
    options: {{seed: 2, factory_fresh: 3}}
    polling: {{cycle_s: 1.0, timeout_s: 0.02}}
strings:
  - name: A
    chemistry: vrla
    rated_capacity_ah: 100
    units: {{model: C20, count: 6, bus: bus1, first_address: 1}}
services:
  - {{type: web, host: 127.0.0.1, port: 0, live_interval_s: 0.2}}
"""
ADMIN_PW, VIEWER_PW = "wizard admin password", "wizard viewer password"


def wire_wizard_commands(hub: Any) -> None:
    """Until the lead's ``Hub.execute`` runs ``wizard_start``/``wizard_stop``: the same few lines,
    here. Does nothing once the hub has its own ``wizards``."""
    if hasattr(hub, "wizards"):
        return
    hub.wizards = Wizards(hub.masters, hub.ctx.events, hub.ctx.clock)
    execute, stop = hub.execute, hub.stop

    def execute_with_wizard(command: Any) -> Any:
        a = command.args
        if command.kind == "wizard_start" and command.actor.may("admin"):
            return hub.wizards.start(str(a["line"]), int(a["start"]))
        if command.kind == "wizard_stop" and command.actor.may("admin"):
            return hub.wizards.stop(str(a["line"]))
        return execute(command)

    async def stop_with_wizard() -> None:
        await hub.wizards.close()
        await stop()

    hub.execute, hub.stop = execute_with_wizard, stop_with_wizard


@pytest.fixture
async def gateway(tmp_path) -> AsyncIterator[Any]:
    import textwrap

    from gateway.core.config import load_config
    from gateway.core.runtime import Gateway
    from gateway.plugins import load_plugins

    cfg = tmp_path / "cellgate.yaml"
    cfg.write_text(textwrap.dedent(GATEWAY.format(n=next(WORLDS))))
    plugins = load_plugins()
    gw = Gateway(load_config(cfg, plugins), plugins, ScaledClock(SPEED))
    wire_wizard_commands(gw.hub)
    local = dict(gw.components)["authenticator:local"]
    local.store.add_user("admin1", "admin", ADMIN_PW)
    local.store.add_user("viewer1", "viewer", VIEWER_PW)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


def https_client(gw: Any) -> Any:
    import ssl

    import httpx

    web = dict(gw.components)["service:web"]
    verify = ssl.create_default_context(cafile=str(gw.ctx.data_dir / "tls" / "cert.pem"))
    return httpx.AsyncClient(base_url=f"https://localhost:{web.port}", verify=verify, timeout=10)


async def login(client: Any, user: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/session", json={"user": user, "password": password})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


async def test_the_web_wizard_addresses_three_monitors_seen_live_and_audited(gateway) -> None:
    import json

    gw = gateway
    await until(lambda: gw.ctx.snapshot().lines and gw.ctx.snapshot().lines[0].requests > 0, what="polling")
    hub_line = gw.hub.masters["bus1"]
    world = hub_line.transport.world
    fresh = [d.serial for d in world.devices() if d.address == 247]
    assert len(fresh) == 3
    live: list[dict[str, Any]] = []

    async with https_client(gw) as client:
        csrf = await login(client, "admin1", ADMIN_PW)

        async def listen() -> None:
            async with client.stream("GET", "/api/v1/live") as stream:
                kind = None
                async for text in stream.aiter_lines():
                    if text.startswith("event: "):
                        kind = text[7:]
                    elif text.startswith("data: ") and kind == "event":
                        live.append(json.loads(text[6:]))

        listener = asyncio.create_task(listen())
        try:
            state = (await client.get("/api/v1/bus/wizard")).json()
            assert state == {"available": True, "lines": ["bus1"], "sessions": {}}
            # a write without the session's CSRF token is refused, and so is an unknown line
            r = await client.post("/api/v1/lines/bus1/wizard", json={"start": 4})
            assert r.status_code == 403
            r = await client.post("/api/v1/lines/bus9/wizard", json={"start": 4}, headers=csrf)
            assert r.status_code == 404
            r = await client.post("/api/v1/lines/bus1/wizard", json={"start": 247}, headers=csrf)
            assert r.status_code == 422

            requests_before = gw.ctx.snapshot().lines[0].requests
            r = await client.post("/api/v1/lines/bus1/wizard", json={"start": 4}, headers=csrf)
            assert r.status_code == 200, r.text
            assert r.json()["message"] == "addressing wizard started on bus1 at address 4"
            r = await client.post("/api/v1/lines/bus1/wizard", json={"start": 4}, headers=csrf)
            assert r.status_code == 409
            assert "already runs" in r.json()["detail"]

            for serial in fresh:
                world.press_button(serial=serial)
                await until(
                    lambda s=serial: any(
                        e["code"] == "wizard_assigned" and e["data"]["serial"] == s for e in live
                    ),
                    what=f"serial {serial} assigned, seen on /live",
                )
            mid = (await client.get("/api/v1/bus/wizard")).json()["sessions"]["bus1"]
            assert mid["state"] == "waiting"
            assert mid["next_address"] == 7
            assert [a["address"] for a in mid["assigned"]] == [4, 5, 6]

            r = await client.delete("/api/v1/lines/bus1/wizard", headers=csrf)
            assert r.status_code == 200, r.text
            await until(lambda: any(e["code"] == "wizard_stopped" for e in live), what="stopped on /live")
            # the other monitors were polled all along, and the new three are polled now
            assert gw.ctx.snapshot().lines[0].requests > requests_before
            await until(
                lambda: all(u.quality is Quality.GOOD for u in gw.ctx.snapshot().strings[0].units),
                what="all six units read",
            )
            final = (await client.get("/api/v1/bus/wizard")).json()["sessions"]["bus1"]
        finally:
            listener.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listener

    assigned = [(e["data"]["address"], e["data"]["serial"]) for e in live if e["code"] == "wizard_assigned"]
    assert assigned == list(zip([4, 5, 6], fresh, strict=True))
    assert final["state"] == "stopped"
    assert final["reason"] == "stopped by request"
    assert final["last"]["code"] == "wizard_stopped"
    # every call is a command, recorded with who asked and from where
    commands = [e for e in live if e["kind"] == "command" and e["code"].startswith("wizard_")]
    assert [(c["code"], c["data"]["ok"]) for c in commands] == [
        ("wizard_start", True),
        ("wizard_start", False),
        ("wizard_stop", True),
    ]
    assert all(c["actor"]["user"] == "admin1" and c["actor"]["via"] == "web" for c in commands)


async def test_only_admins_start_the_wizard(gateway) -> None:
    async with https_client(gateway) as client:
        csrf = await login(client, "viewer1", VIEWER_PW)
        r = await client.post("/api/v1/lines/bus1/wizard", json={"start": 4}, headers=csrf)
        assert r.status_code == 403
        r = await client.delete("/api/v1/lines/bus1/wizard", headers=csrf)
        assert r.status_code == 403
        assert (await client.get("/api/v1/bus/wizard")).status_code == 403
    assert "bus1" not in gateway.hub.wizards.sessions


@needs_chromium
async def test_the_wizard_page_in_chromium(gateway, tmp_path) -> None:
    from playwright.async_api import expect

    gw = gateway
    world = gw.hub.masters["bus1"].transport.world
    fresh = [d.serial for d in world.devices() if d.address == 247]
    web = dict(gw.components)["service:web"]
    async with chromium_page(tmp_path / "profile", width=1280) as (page, problems):
        await page.goto(f"https://localhost:{web.port}/")
        await page.fill("#login-form input[name=user]", "admin1")
        await page.fill("#login-form input[name=password]", ADMIN_PW)
        await page.click("#login-form button[type=submit]")
        await page.click('#nav a[data-page="wizard"]')
        # the page offers the first configured address that does not answer
        await expect(page.locator("#wizard-start")).to_have_value("4", timeout=15_000)
        await expect(page.locator("#wizard-line")).to_have_value("bus1")
        await page.click("#wizard-start-button")
        await expect(page.locator("#wizard-message")).to_contain_text("started on bus1 at address 4")
        await expect(page.locator("#wizard-status")).to_contain_text("it gets address 4")

        world.press_button(serial=fresh[0])
        await expect(page.locator("#wizard-assigned tbody tr")).to_have_count(1, timeout=15_000)
        # two buttons at once: neither gets an id, and the page says what to do
        world.press_button(serial=fresh[1])
        world.press_button(serial=fresh[2])
        await expect(page.locator("#wizard-two")).to_contain_text(
            "Press one button at a time", timeout=15_000
        )
        for serial, rows in ((fresh[1], 2), (fresh[2], 3)):
            world.press_button(serial=serial)
            await expect(page.locator("#wizard-assigned tbody tr")).to_have_count(rows, timeout=15_000)
        await expect(page.locator("#wizard-two")).to_have_count(0)
        await expect(page.locator("#wizard-assigned tbody")).to_contain_text(str(fresh[2]))
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=SHOTS / "20-wizard.png")
        await page.click("#wizard-stop-button")
        await expect(page.locator("#wizard-status")).to_contain_text(
            "Ended: stopped by request", timeout=15_000
        )
        await expect(page.locator("#wizard-start-button")).to_be_enabled()
    assert [world.by_serial(s).address for s in fresh] == [4, 5, 6]
    assert not problems, problems


async def test_a_gateway_that_stops_ends_the_wizard_first(gateway) -> None:
    gw = gateway
    events = gw.ctx.events.subscribe()
    assert gw.hub.wizards.start("bus1", 4).ok
    await until(lambda: not events.queue.empty(), what="the wizard's first event")
    await gw.stop()
    seen = [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    stopped = [e for e in seen if e.code == "wizard_stopped"]
    assert len(stopped) == 1
    assert stopped[0].data["reason"] == "the gateway is stopping"
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith(("wizard-", "bus-master"))]
