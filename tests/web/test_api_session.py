"""Browser sessions: login, cookie flags, forced password change, logout, expiry, throttling."""

from __future__ import annotations

import asyncio

from plugins.web.sessions import COOKIE_NAME, SessionStore
from tests.web.conftest import PASSWORDS, Site


async def test_login_sets_a_strict_httponly_secure_cookie(site: Site) -> None:
    r = await site.client.post("/api/v1/session", json={"user": "viewer1", "password": PASSWORDS["viewer"]})
    assert r.status_code == 200
    body = r.json()
    assert (body["user"], body["role"], body["must_change_password"]) == ("viewer1", "viewer", False)
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE_NAME}=" in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower()
    assert body["csrf_token"] not in cookie
    me = await site.client.get("/api/v1/session")
    assert me.json()["user"] == "viewer1"


async def test_wrong_password_and_unknown_user_look_the_same(site: Site) -> None:
    a = await site.client.post("/api/v1/session", json={"user": "viewer1", "password": "nope nope nope"})
    b = await site.client.post("/api/v1/session", json={"user": "ghost", "password": "nope nope nope"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert COOKIE_NAME not in a.headers.get("set-cookie", "")


async def test_logout_ends_the_session(site: Site) -> None:
    csrf = await site.login("operator")
    assert (await site.client.delete("/api/v1/session", headers=csrf)).status_code == 204
    assert (await site.client.get("/api/v1/overview")).status_code == 401
    await asyncio.sleep(0.05)
    assert [e.code for e in site.events("login")] == ["login", "logout"]


async def test_forced_password_change_blocks_everything_else(site: Site) -> None:
    site.local.store.update_user("operator1", must_change_password=True)
    r = await site.client.post(
        "/api/v1/session", json={"user": "operator1", "password": PASSWORDS["operator"]}
    )
    assert r.json()["must_change_password"] is True
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    r = await site.client.get("/api/v1/overview")
    assert r.status_code == 403
    assert "password change" in r.json()["detail"]
    r = await site.client.post(
        "/api/v1/session/password",
        headers=csrf,
        json={"old_password": "wrong old one", "new_password": "a brand new password"},
    )
    assert r.status_code == 400
    r = await site.client.post(
        "/api/v1/session/password",
        headers=csrf,
        json={"old_password": PASSWORDS["operator"], "new_password": "short"},
    )
    assert r.status_code == 400
    assert "too short" in r.json()["detail"]
    r = await site.client.post(
        "/api/v1/session/password",
        headers=csrf,
        json={"old_password": PASSWORDS["operator"], "new_password": "a brand new password"},
    )
    assert r.status_code == 200
    assert r.json()["must_change_password"] is False
    assert (await site.client.get("/api/v1/overview")).status_code == 200
    assert site.local.store.verify_password("operator1", "a brand new password") is not None
    await asyncio.sleep(0.05)
    change = next(e for e in site.events() if e.code == "password_change")
    assert change.actor.user == "operator1"


async def test_an_admin_reset_forces_a_change_and_ends_sessions(site: Site) -> None:
    await site.login("viewer")
    r = await site.client.patch(
        "/api/v1/users/viewer1", json={"password": "temporary password"}, headers=site.bearer("admin")
    )
    assert r.json()["must_change_password"] is True
    assert (await site.client.get("/api/v1/session")).status_code == 401  # the old session is gone
    await asyncio.sleep(0.05)
    update = next(e for e in site.events() if e.code == "user_update")
    assert "temporary password" not in str(update.to_dict())


async def test_user_lockout_after_repeated_failures(site: Site) -> None:
    for _ in range(3):  # the fixture's local authenticator locks after 3
        r = await site.client.post(
            "/api/v1/session", json={"user": "admin1", "password": "guess guess guess"}
        )
        assert r.status_code == 401
    r = await site.client.post("/api/v1/session", json={"user": "admin1", "password": PASSWORDS["admin"]})
    assert r.status_code == 401  # locked: even the right password fails for a while
    await asyncio.sleep(0.05)
    assert any(e.code == "locked_out" for e in site.events("login"))
    # an admin's password reset unlocks
    r = await site.client.patch(
        "/api/v1/users/admin1", json={"password": "reset by another admin"}, headers=site.bearer("admin")
    )
    assert r.status_code == 200
    r = await site.client.post(
        "/api/v1/session", json={"user": "admin1", "password": "reset by another admin"}
    )
    assert r.status_code == 200


async def test_one_address_is_throttled_after_many_failures(site: Site) -> None:
    limit = site.web.config.login_max_failures
    for i in range(limit):
        r = await site.client.post("/api/v1/session", json={"user": f"u{i}", "password": "x" * 12})
        assert r.status_code == 401
    r = await site.client.post("/api/v1/session", json={"user": "viewer1", "password": PASSWORDS["viewer"]})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0


def test_sessions_expire_when_idle_and_at_the_absolute_limit() -> None:
    now = [0.0]
    store = SessionStore(idle_s=60, max_s=300, monotonic=lambda: now[0])
    sid, _ = store.create("u", "viewer", "1.2.3.4", must_change_password=False, local=True)
    now[0] = 59
    assert store.get(sid) is not None
    now[0] = 59 + 61
    assert store.get(sid) is None  # idle too long
    sid, _ = store.create("u", "viewer", "1.2.3.4", must_change_password=False, local=True)
    for t in range(150, 480, 30):  # busy all the time...
        now[0] = t
        alive = store.get(sid) is not None
    assert not alive  # ...still ends at the absolute limit
    assert store.get("made-up") is None


async def test_users_and_tokens_by_an_admin(site: Site) -> None:
    admin = site.bearer("admin")
    r = await site.client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": "nina", "role": "operator", "password": "ninas first pw"},
    )
    assert r.status_code == 201
    assert r.json()["must_change_password"] is True
    assert "password" not in r.json()
    r = await site.client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": "nina", "role": "operator", "password": "ninas first pw"},
    )
    assert r.status_code == 409
    r = await site.client.post(
        "/api/v1/users", headers=admin, json={"name": "x", "role": "god", "password": "p" * 12}
    )
    assert r.status_code == 422
    r = await site.client.post("/api/v1/tokens", headers=admin, json={"name": "scada", "role": "operator"})
    token = r.json()["token"]
    listed = (await site.client.get("/api/v1/tokens", headers=admin)).json()
    assert token not in str(listed)
    assert any(t["name"] == "scada" and t["owner"] == "admin1" for t in listed)
    r = await site.client.post("/api/v1/alarms/2/ack", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    r = await site.client.delete("/api/v1/users/admin1", headers=admin)
    assert r.status_code == 400  # the last admin stays
    assert "no enabled admin" in r.json()["detail"]
