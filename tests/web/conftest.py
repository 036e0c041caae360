"""Fixtures of the web tests: cheap argon2 parameters, and a web app over a synthetic site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from plugins.auth_local import store as store_module
from plugins.auth_local.authenticator import LocalAuthConfig, LocalAuthenticator
from plugins.web.app import create_app
from plugins.web.config import WebConfig
from plugins.web.state import WebState
from tests.web.fakes import FakeEngine, chain_for, make_context, make_snapshot

ROLES = ("viewer", "operator", "admin")
PASSWORDS = {role: f"{role}-password-1" for role in ROLES}


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id still, but with test-sized memory and time: a login costs 1 ms, not 100."""
    monkeypatch.setattr(
        store_module, "PasswordHasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@dataclass
class Site:
    client: httpx.AsyncClient
    web: WebState
    engine: FakeEngine
    local: LocalAuthenticator
    tokens: dict[str, str] = field(default_factory=dict)

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def login(self, role: str) -> dict[str, str]:
        """Log the client in as ``<role>1``; returns the CSRF header for writes."""
        r = await self.client.post("/api/v1/session", json={"user": f"{role}1", "password": PASSWORDS[role]})
        assert r.status_code == 200, r.text
        return {"X-CSRF-Token": r.json()["csrf_token"]}

    def events(self, kind: str | None = None) -> list:
        return [e for e in self.web.recent_events if kind is None or e.kind == kind]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    holder: list = []
    ctx = make_context(tmp_path, holder)
    ctx.config = {**ctx.config, "authenticators": [{"type": "local"}]}
    engine = FakeEngine(ctx, make_snapshot())
    holder.append(engine)
    local = LocalAuthenticator(LocalAuthConfig(create_initial_admin=False, max_failures=3), ctx)
    await local.start()
    ctx.authenticate = chain_for(local, ctx)
    tokens = {}
    for role in ROLES:
        local.store.add_user(f"{role}1", role, PASSWORDS[role])
        tokens[role] = local.store.create_token(f"{role}-token", role, owner=f"{role}1")[1]
    engine.start()
    web = WebState(ctx, WebConfig(), local)
    web.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(web)), base_url="https://testserver"
    )
    try:
        yield Site(client, web, engine, local, tokens)
    finally:
        await client.aclose()
        await web.stop()
        await engine.stop()
        await local.stop()
