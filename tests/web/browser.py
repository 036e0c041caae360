"""Headless Chromium for the browser tests: one launch recipe, and a record of what the page complains of.

Screenshots go under ``tests/web/screenshots/`` for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="run scripts/peers/chromium.sh first")


@asynccontextmanager
async def chromium_page(
    profile: Path, width: int, height: int = 900
) -> AsyncIterator[tuple[Page, list[str]]]:
    """A page in a fresh headless Chromium (profile in ``profile``), and the list it appends its
    page errors and console errors to; the browser is closed on the way out, test failed or not."""
    from playwright.async_api import async_playwright  # heavy: only the browser tests pay for it

    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=BROWSER_ARGS,
            headless=True,
            ignore_https_errors=True,  # the web service's self-signed certificate
            viewport={"width": width, "height": height},
        )
        try:
            page = browser.pages[0] if browser.pages else await browser.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(  # the 401 is the page asking who it is before the login
                "console",
                lambda m: (
                    problems.append(f"console: {m.text}")
                    if m.type == "error" and "401" not in m.text
                    else None
                ),
            )
            yield page, problems
        finally:
            await browser.close()


def _note_console_error(message: ConsoleMessage, problems: list[str]) -> None:
    # a 401 is the page asking who it is before the login, not a fault
    if message.type == "error" and "401" not in message.text:
        problems.append(f"console: {message.text}")
