"""The live stream (``GET /api/v1/live``) gzipped for clients that accept it, plain for the rest.

Against the real web service (uvicorn, https) over a 512-unit site: the raw bytes decoded with
zlib, curl ``--compressed`` as an independent client, and headless Chromium's EventSource.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.core.events import Event
from plugins.web.config import WebConfig
from plugins.web.live import accepts_gzip
from plugins.web.service import WebService
from tests.processes import stop_async
from tests.web.browser import chromium_page, needs_chromium
from tests.web.fakes import FakeEngine, make_context, make_snapshot

WAIT_S = 10.0  # an update that does not arrive within this is held back somewhere
PASSWORD = "watchers password"


@dataclass
class Live:
    svc: WebService
    engine: FakeEngine
    token: str
    cafile: Path

    def client(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"https://localhost:{self.svc.port}",
            verify=ssl.create_default_context(cafile=str(self.cafile)),
            headers={"Authorization": f"Bearer {self.token}", **headers},
            timeout=WAIT_S,
        )

    async def overview(self) -> dict[str, Any]:
        async with self.client() as client:
            r = await client.get("/api/v1/overview")
            assert r.status_code == 200
            return r.json()


@pytest.fixture
async def live(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> AsyncIterator[Live]:
    holder: list = []
    ctx = make_context(tmp_path, holder)
    engine = FakeEngine(ctx, make_snapshot(strings=4, units=128))  # 512 units: ~240 KiB of JSON
    holder.append(engine)
    engine.start()
    svc = WebService(WebConfig(host="127.0.0.1", port=0, live_interval_s=0.1), ctx)
    await svc.start()
    try:
        store = svc.state.local.store
        store.add_user("watcher", "viewer", PASSWORD)
        token = store.create_token("watcher-token", "viewer", owner="watcher")[1]
        yield Live(svc, engine, token, ctx.data_dir / "tls" / "cert.pem")
    finally:
        await svc.stop()
        await engine.stop()


def sse_messages(buffer: str) -> tuple[list[dict[str, str]], str]:
    """The complete SSE messages at the start of ``buffer`` (field → value), and the rest."""
    *complete, rest = buffer.split("\n\n")
    messages = []
    for block in complete:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = value
        messages.append(fields)
    return messages, rest


async def next_overview(messages: AsyncIterator[dict[str, str]]) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        async for message in messages:
            if message.get("event") == "overview":
                return json.loads(message["data"])
    raise AssertionError("the stream ended before an overview")


async def decoded(raw: AsyncIterator[bytes], gzipped: bool) -> AsyncIterator[dict[str, str]]:
    """SSE messages as they arrive, decoding the wire bytes ourselves (one gzip stream)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    buffer = ""
    async for chunk in raw:
        buffer += (inflater.decompress(chunk) if inflater else chunk).decode()
        messages, buffer = sse_messages(buffer)
        for message in messages:
            yield message


async def test_a_gzip_client_gets_each_event_compressed_at_once(live: Live) -> None:
    async with (
        live.client(**{"Accept-Encoding": "gzip"}) as client,
        client.stream("GET", "/api/v1/live") as stream,
    ):
        assert stream.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in stream.headers["vary"].lower()
        assert stream.headers["content-type"].startswith("text/event-stream")
        wire = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal wire
            async for chunk in stream.aiter_raw():
                wire += len(chunk)
                yield chunk

        messages = decoded(counted(), gzipped=True)
        # the first overview decodes from what arrived while the stream is still open:
        # each message is flushed whole, not held in the compressor
        first = await next_overview(messages)
        assert first == await live.overview()
        assert first["site"]["version"] == 1
        live.engine.tick()
        second = await next_overview(messages)
        assert second == await live.overview()
        assert second["site"]["version"] == 2
        live.svc.ctx.events.publish(Event(time=0.0, kind="alarm", code="test", message="hello"))
        async with asyncio.timeout(WAIT_S):
            async for message in messages:
                if message.get("event") == "event":
                    assert json.loads(message["data"])["message"] == "hello"
                    break
        raw_size = 2 * len(json.dumps(first, separators=(",", ":")))
        assert wire < raw_size / 4, f"{wire} bytes on the wire for two overviews of {raw_size}"


async def test_a_client_without_gzip_gets_the_plain_stream(live: Live) -> None:
    for accept in ("identity", "gzip;q=0, deflate"):
        async with (
            live.client(**{"Accept-Encoding": accept}) as client,
            client.stream("GET", "/api/v1/live") as stream,
        ):
            assert "content-encoding" not in stream.headers
            raw = stream.aiter_raw()
            first_bytes = await anext(raw)
            assert first_bytes.startswith(b"retry: 3000\n\n")
            overview = await next_overview(decoded(_prefixed(first_bytes, raw), gzipped=False))
            assert overview == await live.overview()


async def _prefixed(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def test_a_gone_client_leaves_no_listener_behind(live: Live) -> None:
    async with (
        live.client(**{"Accept-Encoding": "gzip"}) as client,
        client.stream("GET", "/api/v1/live") as stream,
    ):
        await next_overview(decoded(stream.aiter_raw(), gzipped=True))
        assert len(live.svc.state.listeners) == 1
    async with asyncio.timeout(WAIT_S):
        while live.svc.state.listeners:
            await asyncio.sleep(0.05)


async def test_a_stream_we_end_is_a_complete_gzip_file(live: Live) -> None:
    """At logout the stream ends with gzip's trailer, so even a strict decoder accepts it."""
    async with live.client() as client:
        r = await client.post("/api/v1/session", json={"user": "watcher", "password": PASSWORD})
        assert r.status_code == 200
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        del client.headers["Authorization"]  # the session cookie alone, so logout ends the stream
        async with client.stream("GET", "/api/v1/live", headers={"Accept-Encoding": "gzip"}) as stream:
            raw = stream.aiter_raw()
            received = await anext(raw)
            assert (await client.delete("/api/v1/session", headers=csrf)).status_code == 204
            async with asyncio.timeout(WAIT_S):
                async for chunk in raw:
                    received += chunk
    text = zlib.decompress(received, 16 + zlib.MAX_WBITS).decode()  # raises on a missing trailer
    assert text.startswith("retry: 3000\n\n")
    assert text.endswith("event: logout\ndata: {}\n\n")


@pytest.mark.skipif(shutil.which("curl") is None, reason="run scripts/peers/web-live.sh first")
async def test_curl_decodes_the_compressed_stream_as_it_arrives(live: Live) -> None:
    curl = await asyncio.create_subprocess_exec(
        "curl",
        "--silent",
        "--show-error",
        "--no-buffer",
        "--compressed",  # asks for gzip and inflates with its own zlib
        "--max-time",
        "30",
        "--cacert",
        str(live.cafile),
        "--header",
        f"Authorization: Bearer {live.token}",
        "--dump-header",
        "-",
        f"https://localhost:{live.svc.port}/api/v1/live",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,  # an overview is one ~240 KiB line
    )
    try:
        headers, versions = "", []
        async with asyncio.timeout(WAIT_S):
            while len(versions) < 2:
                line = (await curl.stdout.readline()).decode()
                assert line, (await curl.stderr.read()).decode()
                if not versions and not line.startswith("data: "):
                    headers += line
                if line.startswith("data: {"):
                    data = json.loads(line[6:])
                    if "site" in data:
                        assert data == await live.overview()
                        versions.append(data["site"]["version"])
                        live.engine.tick()
        assert re.search(r"(?im)^content-encoding: gzip\r?$", headers), headers
        assert versions == [1, 2]
    finally:
        await stop_async(curl)


@needs_chromium
async def test_the_page_updates_live_over_the_compressed_stream(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import Response, expect

    live_responses: list[Response] = []
    async with chromium_page(tmp_path / "profile", width=1280) as (page, problems):
        page.on("response", lambda r: live_responses.append(r) if r.url.endswith("/api/v1/live") else None)
        await page.goto(f"https://localhost:{live.svc.port}/")
        await page.fill("#login-form input[name=user]", "watcher")
        await page.fill("#login-form input[name=password]", PASSWORD)
        await page.click("#login-form button[type=submit]")
        cell = page.locator('table[data-string="0"] tr[data-position="5"] td:nth-child(2)')
        await expect(cell).to_have_text(re.compile(r"^\d+\.\d{3}$"), timeout=WAIT_S * 1000)
        before = await cell.inner_text()
        for _ in range(5):  # the fake site's voltages move with each engine cycle
            live.engine.tick()
            try:
                await expect(cell).not_to_have_text(before, timeout=2_000)
                break
            except AssertionError:
                continue
        assert await cell.inner_text() != before, "the overview did not update live"
        assert live_responses, "the page never opened the live stream"
        headers = await live_responses[-1].all_headers()
        assert headers.get("content-encoding") == "gzip", headers
    assert not problems, problems


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        ("gzip, deflate, br, zstd", True),  # Chromium
        ("deflate, gzip", True),  # curl --compressed
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, identity", False),
        ("identity", False),
        ("", False),
        ("gzipped", False),
    ],
)
def test_which_accept_encoding_gets_gzip(header: str, gzip: bool) -> None:
    assert accepts_gzip(header) is gzip
