"""The web service for real: uvicorn in our loop, https with the self-signed certificate, the
http redirect, the first-start admin, live updates over Server-Sent Events, clean stop."""

from __future__ import annotations

import json
import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from plugins.auth_local.authenticator import LocalAuthenticator
from plugins.auth_local.first_start import PASSWORD_FILE
from plugins.web.config import WebConfig
from plugins.web.service import WebService
from tests.web.fakes import FakeEngine, make_context, make_snapshot


@pytest.fixture
async def service(tmp_path: Path, capsys):
    holder: list = []
    ctx = make_context(tmp_path, holder)  # no authenticator configured: the web brings local users
    engine = FakeEngine(ctx, make_snapshot())
    holder.append(engine)
    engine.start()
    svc = WebService(WebConfig(host="127.0.0.1", port=0, http_port=0, live_interval_s=0.1), ctx)
    await svc.start()
    try:
        yield svc, engine
    finally:
        await svc.stop()
        await engine.stop()


def _client(svc: WebService, **kw) -> httpx.AsyncClient:
    verify = ssl.create_default_context(cafile=str(svc.ctx.data_dir / "tls" / "cert.pem"))
    return httpx.AsyncClient(base_url=f"https://localhost:{svc.port}", verify=verify, timeout=10, **kw)


async def test_https_with_a_self_signed_certificate_made_on_first_start(service) -> None:
    svc, _ = service
    key = svc.ctx.data_dir / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    async with _client(svc) as client:  # verifies the chain and the name 'localhost'
        r = await client.get("/")
        assert r.status_code == 200
        assert "<title>cellgate" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "server" not in r.headers
        spec = (await client.get("/api/v1/openapi.json")).json()
        assert "/api/v1/overview" in spec["paths"]
    # the listening socket says TCP, so asyncio turns Nagle off on each connection (else every
    # response body waits 40 ms for the client's delayed ACK)
    assert all(sock.proto == socket.IPPROTO_TCP for _, _, sock in svc._servers)
    async with _client(svc) as client:
        r = await client.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert "--alarm" in r.text
    # plain http on the https port is refused, never served
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.port}", timeout=5) as plain:
        with pytest.raises(httpx.HTTPError):
            await plain.get("/api/v1/overview")


async def test_http_only_redirects_to_https(service) -> None:
    svc, _ = service
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}", timeout=5) as plain:
        r = await plain.get("/api/v1/overview?x=1", headers={"Host": f"gw.example:{svc.http_port}"})
    assert r.status_code == 308
    assert r.headers["location"] == f"https://gw.example:{svc.port}/api/v1/overview?x=1"


async def test_first_start_admin_printed_once_and_must_change(service, capsys) -> None:
    svc, _ = service
    out = capsys.readouterr().out
    password = (svc.ctx.data_dir / PASSWORD_FILE).read_text().strip()
    assert f"password: {password}" in out
    async with _client(svc) as client:
        r = await client.post("/api/v1/session", json={"user": "admin", "password": password})
        assert r.status_code == 200
        assert r.json()["must_change_password"] is True
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert (await client.get("/api/v1/overview")).status_code == 403
        r = await client.post(
            "/api/v1/session/password",
            headers=csrf,
            json={"old_password": password, "new_password": "my own admin password"},
        )
        assert r.status_code == 200
        assert (await client.get("/api/v1/overview")).status_code == 200
    assert not (svc.ctx.data_dir / PASSWORD_FILE).exists()  # no longer valid: gone


async def test_live_updates_over_server_sent_events(service) -> None:
    svc, engine = service
    local = svc.state.local
    local.store.add_user("watcher", "viewer", "watchers password")
    async with _client(svc) as client:
        r = await client.post("/api/v1/session", json={"user": "watcher", "password": "watchers password"})
        assert r.status_code == 200
        seen_versions, events = [], []
        async with client.stream("GET", "/api/v1/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            kind = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "overview":
                    seen_versions.append(json.loads(line[6:])["site"]["version"])
                    if len(seen_versions) == 1:
                        engine.tick()  # a new engine cycle...
                elif line.startswith("data: ") and kind == "event":
                    events.append(json.loads(line[6:]))
                    if len(seen_versions) >= 2:
                        break
                if len(seen_versions) == 2 and not events:
                    # ...and an event (an operator acknowledging, say)
                    from gateway.core.events import Event

                    svc.ctx.events.publish(Event(time=0.0, kind="alarm", code="test", message="hello"))
    assert seen_versions[:2] == [1, 2]
    assert events[0]["message"] == "hello"


async def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    holder: list = []
    ctx = make_context(tmp_path, holder)
    holder.append(FakeEngine(ctx, make_snapshot()))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        svc = WebService(WebConfig(host="127.0.0.1", port=busy.getsockname()[1]), ctx)
        with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
            await svc.start()
    assert LocalAuthenticator.active is None  # what it started, it stopped


async def test_a_configured_certificate_is_served(tmp_path: Path, capsys) -> None:
    from plugins.web.tls import ensure_self_signed

    cert, key = ensure_self_signed(tmp_path / "mine", ["localhost", "my-gateway"])
    holder: list = []
    ctx = make_context(tmp_path, holder)
    holder.append(FakeEngine(ctx, make_snapshot()))
    svc = WebService(WebConfig(host="127.0.0.1", port=0, cert_file=str(cert), key_file=str(key)), ctx)
    await svc.start()
    try:
        verify = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=f"https://localhost:{svc.port}", verify=verify) as client:
            assert (await client.get("/")).status_code == 200
        assert not (ctx.data_dir / "tls").exists()  # no self-signed one was made
    finally:
        await svc.stop()
