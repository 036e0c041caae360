"""The addressing wizard through a running gateway: REST API, engine command, wizard, events on
the live stream, roles, and the page in Chromium."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.core.clock import ScaledClock
from gateway.core.model import Quality
from tests.waiting import until
from tests.web.browser import SHOTS, chromium_page, needs_chromium

WORLDS = itertools.count(1)
SPEED = 5.0  # simulated time runs 5× real time: learn mode (60 s simulated) lasts 12 s real


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
