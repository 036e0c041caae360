"""End to end in a real browser: the real gateway (``cellgate run``, simulator, web service) and
headless Chromium driven by Playwright, through what an operator does on day one.

First login with the printed password and the forced change, the overview with live values
changing, acknowledging an alarm a simulator scenario raised, a unit's trend chart. Each page
is saved under ``tests/web/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import stop
from tests.web.browser import SHOTS, chromium_page, needs_chromium

SPEED = 5  # simulated seconds per real second: the scenario's fault comes after 4 s

pytestmark = needs_chromium

SCENARIO = """\
description: the monitor at address 2 of the first line falls silent after 20 s
events:
  - {at: 20, do: unit_silent, address: 2}
"""

CONFIG = """\
site: {{name: "Battery room 2 — UPS A/B"}}
data_dir: var
lines:
  - {{name: bus1, url: "sim://e2e", baud: 19200, options: {{seed: 3, scenario: scenario.yaml}}}}
  - {{name: bus2, url: "sim://e2e", baud: 19200}}
strings:
  - name: UPS A
    chemistry: vrla
    nominal_voltage_v: 12.0
    rated_capacity_ah: 100.0
    units: {{model: C20, count: 24, bus: bus1, first_address: 1}}
    current_sensor: {{bus: bus1, address: 100}}
  - name: UPS B
    chemistry: vrla
    nominal_voltage_v: 12.0
    rated_capacity_ah: 100.0
    units: {{model: C20, count: 24, bus: bus2, first_address: 1}}
    current_sensor: {{bus: bus2, address: 100}}
sensors:
  ambient: {{bus: bus1, address: 110}}
history: {{type: sqlite}}
authenticators: [{{type: local}}]
services:
  - {{type: web, host: 127.0.0.1, port: {port}}}
logging: {{level: warning, format: console}}
"""


@dataclass
class Gateway:
    url: str
    password: str
    proc: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def gateway(tmp_path: Path, cellgate_bin: str) -> AsyncIterator[Gateway]:
    port = _free_port()
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    (tmp_path / "site.yaml").write_text(CONFIG.format(port=port))
    proc = subprocess.Popen(
        [cellgate_bin, "run", "-c", str(tmp_path / "site.yaml"), "--speed", str(SPEED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        password = await asyncio.wait_for(asyncio.to_thread(_read_password, proc), 30)
        await _wait_for_port(port, 30)
        yield Gateway(f"https://localhost:{port}", password, proc)
    finally:
        await asyncio.to_thread(stop, proc, 20, close_pipes=False)
        errors = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0, errors[-3000:]


def _read_password(proc: subprocess.Popen) -> str:
    for line in proc.stdout:
        m = re.search(r"created user 'admin' with password: (\S+)", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no first-start password printed; stderr: {proc.stderr.read()[-3000:]}")


async def _wait_for_port(port: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_first_day_of_an_operator(gateway: Gateway, tmp_path: Path) -> None:
    from playwright.async_api import expect

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir()
    (SHOTS / ".gitignore").write_text("*\n")
    async with chromium_page(tmp_path / "profile", width=1440) as (page, problems):
        # 1. first login with the printed password, forced to choose a new one
        await page.goto(gateway.url + "/")
        await page.fill("#login-form input[name=user]", "admin")
        await page.fill("#login-form input[name=password]", gateway.password)
        await page.screenshot(path=SHOTS / "01-login.png")
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#change-form")).to_be_visible()
        await page.fill("#change-form input[name=old]", gateway.password)
        await page.fill("#change-form input[name=new]", "a new admin password")
        await page.fill("#change-form input[name=again]", "a new admin password")
        await page.screenshot(path=SHOTS / "02-forced-change.png")
        await page.click("#change-form button[type=submit]")

        # 2. the overview, live: a cell's value changes without reloading
        first_cell = page.locator('table[data-string="0"] tr[data-position="5"] td:nth-child(2)')
        await expect(first_cell).to_have_text(re.compile(r"^\d+\.\d{3}$"), timeout=20_000)
        before = await first_cell.inner_text()
        live_before = await page.locator("#live-text").inner_text()
        await expect(page.locator("#live-text")).not_to_have_text(live_before, timeout=15_000)
        for _ in range(60):  # a float voltage moves by a few mV between polls
            if await first_cell.inner_text() != before:
                break
            await page.wait_for_timeout(250)
        assert await first_cell.inner_text() != before, "the overview did not update live"
        await expect(page.locator('table[data-string="1"] tbody tr')).to_have_count(24)
        await page.screenshot(path=SHOTS / "03-overview.png", full_page=True)

        # 3. the scenario's silent monitor raises an alarm; the operator acknowledges it
        await page.click('#nav a[data-page="alarms"]')
        ack = page.locator("button.ack").first
        await expect(ack).to_be_visible(timeout=30_000)
        row = page.locator("tr[data-alarm]").filter(has=ack).first
        alarm_id = await row.get_attribute("data-alarm")
        await page.screenshot(path=SHOTS / "04-alarm-raised.png")
        await ack.click()
        acked = page.locator(f'tr[data-alarm="{alarm_id}"] td:last-child')
        await expect(acked).to_contain_text("admin", timeout=15_000)
        await page.screenshot(path=SHOTS / "05-alarm-acknowledged.png")

        # the acknowledgement is in the event log, with who and from where
        await page.click('#nav a[data-page="events"]')
        ack_event = page.locator("tbody tr", has_text="ack_alarm").first
        await expect(ack_event).to_contain_text("admin", timeout=15_000)
        await expect(ack_event).to_contain_text("web")
        await page.screenshot(path=SHOTS / "06-events.png")

        # 4. a unit's trend chart, opened from its row in the overview
        await page.click('#nav a[data-page="overview"]')
        await page.click('table[data-string="0"] tr[data-position="7"]')
        await expect(page.locator("#trend-title")).to_contain_text("UPS A #7")
        await expect(page.locator("#trend-chart canvas")).to_be_visible(timeout=30_000)
        await page.wait_for_timeout(500)
        await page.screenshot(path=SHOTS / "07-trend-unit.png")

        # and the pages an operator also visits
        for name in ("bus", "users", "wizard", "reports"):
            await page.click(f'#nav a[data-page="{name}"]')
            await page.wait_for_timeout(700)
            await page.screenshot(path=SHOTS / f"08-{name}.png")
    assert not problems, problems
