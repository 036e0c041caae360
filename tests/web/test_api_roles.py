"""Every endpoint of the REST API with each role: what it may do, and the refusals."""

from __future__ import annotations

import asyncio

import pytest

from tests.web.conftest import ROLES, Site

SERIES = "source=strings[0].units[0]&fields=voltage_v&from=1759990000&to=1760010000"

# (method, path, json body, least role, status on success)
ENDPOINTS = [
    ("GET", "/api/v1/overview", None, "viewer", 200),
    ("GET", "/api/v1/site", None, "viewer", 200),
    ("GET", "/api/v1/strings", None, "viewer", 200),
    ("GET", "/api/v1/strings/1", None, "viewer", 200),
    ("GET", "/api/v1/strings/0/units", None, "viewer", 200),
    ("GET", "/api/v1/strings/0/units/7", None, "viewer", 200),
    ("GET", "/api/v1/alarms", None, "viewer", 200),
    ("GET", "/api/v1/lines", None, "viewer", 200),
    ("GET", "/api/v1/events", None, "viewer", 200),
    ("GET", "/api/v1/reports/discharges", None, "viewer", 200),
    ("GET", f"/api/v1/history?{SERIES}", None, "viewer", 200),
    ("GET", f"/api/v1/history/export?{SERIES}", None, "viewer", 200),
    ("GET", "/api/v1/session", None, "viewer", 200),
    ("GET", "/api/v1/config", None, "admin", 200),
    ("GET", "/api/v1/bus/wizard", None, "admin", 200),
    ("POST", "/api/v1/alarms/1/ack", None, "operator", 200),
    ("PUT", "/api/v1/equalization", {"enabled": False, "string": 1}, "operator", 200),
    ("POST", "/api/v1/strings/0/units/3/ri", None, "operator", 200),
    ("POST", "/api/v1/strings/0/ri-baseline", {"position": 3}, "admin", 200),
    ("PUT", "/api/v1/settings/thresholds/unit_voltage_high.alarm", {"value": 14.4}, "admin", 200),
    ("PUT", "/api/v1/relays/0", {"on": True}, "admin", 200),
    ("GET", "/api/v1/users", None, "admin", 200),
    (
        "POST",
        "/api/v1/users",
        {"name": "newbie", "role": "viewer", "password": "a fine password"},
        "admin",
        201,
    ),
    ("PATCH", "/api/v1/users/viewer1", {"role": "operator"}, "admin", 200),
    ("DELETE", "/api/v1/users/viewer1", None, "admin", 204),
    ("GET", "/api/v1/tokens", None, "admin", 200),
    ("POST", "/api/v1/tokens", {"name": "grafana", "role": "viewer"}, "admin", 201),
    ("DELETE", "/api/v1/tokens/viewer-token", None, "admin", 204),
]
IDS = [f"{m} {p.split('?')[0]}" for m, p, *_ in ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "body", "least", "ok_status"), ENDPOINTS, ids=IDS)
async def test_each_endpoint_with_each_role(site: Site, method, path, body, least, ok_status) -> None:
    r = await site.client.request(method, path, json=body)
    assert r.status_code == 401, f"anonymous {method} {path}: {r.status_code}"
    assert "Bearer" in r.headers["www-authenticate"]
    for role in ROLES:
        allowed = ROLES.index(role) >= ROLES.index(least)
        r = await site.client.request(method, path, json=body, headers=site.bearer(role))
        expected = ok_status if allowed else 403
        assert r.status_code == expected, f"{role} {method} {path}: {r.status_code} {r.text}"
        if not allowed:
            assert least in r.json()["detail"]
        if allowed:
            break  # one success is enough: a second identical write would conflict (user exists...)


@pytest.mark.parametrize(
    ("method", "path", "body", "least", "ok_status"),
    [e for e in ENDPOINTS if e[0] != "GET"],
    ids=[i for i in IDS if not i.startswith("GET")],
)
async def test_browser_writes_need_the_csrf_token(site: Site, method, path, body, least, ok_status) -> None:
    csrf = await site.login("admin")
    r = await site.client.request(method, path, json=body)  # session cookie, no token: refused
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    r = await site.client.request(method, path, json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = await site.client.request(method, path, json=body, headers=csrf)
    assert r.status_code == ok_status, r.text


async def test_bad_and_revoked_credentials_are_refused(site: Site) -> None:
    for header in ("Bearer nonsense", "Basic YWRtaW4xOng=", "Bearer ", "bearer cgt_x_y"):
        r = await site.client.get("/api/v1/overview", headers={"Authorization": header})
        assert r.status_code == 401, header
    r = await site.client.delete("/api/v1/tokens/viewer-token", headers=site.bearer("admin"))
    assert r.status_code == 204
    r = await site.client.get("/api/v1/overview", headers=site.bearer("viewer"))
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


async def test_a_demoted_owner_caps_its_tokens(site: Site) -> None:
    r = await site.client.patch(
        "/api/v1/users/operator1", json={"role": "viewer"}, headers=site.bearer("admin")
    )
    assert r.status_code == 200
    r = await site.client.post("/api/v1/alarms/1/ack", headers=site.bearer("operator"))
    assert r.status_code == 403


async def test_role_change_applies_to_a_live_session(site: Site) -> None:
    csrf = await site.login("operator")
    assert (await site.client.post("/api/v1/alarms/1/ack", headers=csrf)).status_code == 200
    site.local.store.update_user("operator1", role="viewer")
    r = await site.client.post("/api/v1/alarms/1/ack", headers=csrf)
    assert r.status_code == 403
    site.local.store.update_user("operator1", disabled=True)
    assert (await site.client.get("/api/v1/overview")).status_code == 401


async def test_every_write_is_an_event_with_who_and_from_where(site: Site) -> None:
    admin = site.bearer("admin")
    await site.client.post("/api/v1/alarms/1/ack", headers=site.bearer("operator"))
    await site.client.put("/api/v1/equalization", json={"enabled": True}, headers=admin)
    await site.client.post(
        "/api/v1/users", json={"name": "zed", "role": "viewer", "password": "zeds password"}, headers=admin
    )
    await site.client.post("/api/v1/session", json={"user": "zed", "password": "wrong password"})
    await asyncio.sleep(0.05)  # the event pump runs as its own task
    codes = {(e.kind, e.code): e for e in site.events()}
    ack = codes[("command", "ack_alarm")]
    assert (ack.actor.user, ack.actor.role, ack.actor.via, ack.actor.source) == (
        "operator1",
        "operator",
        "api",
        "127.0.0.1",
    )
    assert codes[("command", "set_equalization")].actor.user == "admin1"
    assert codes[("command", "user_add")].data == {"user": "zed", "role": "viewer"}
    failed = codes[("login", "login_failed")]
    assert (failed.actor.user, failed.level) == ("zed", "warning")
    assert "wrong password" not in str(failed.to_dict())
    # and the API shows them to a viewer
    r = await site.client.get("/api/v1/events", headers=site.bearer("viewer"))
    assert {"ack_alarm", "set_equalization", "user_add", "login_failed"} <= {e["code"] for e in r.json()}


async def test_acknowledging_an_alarm_reaches_the_engine_and_the_view(site: Site) -> None:
    r = await site.client.post("/api/v1/alarms/1/ack", headers=site.bearer("operator"))
    assert r.json()["ok"] is True
    assert site.engine.commands[-1].args == {"alarm_id": 1}
    alarms = (await site.client.get("/api/v1/alarms", headers=site.bearer("viewer"))).json()
    assert next(a for a in alarms if a["id"] == 1)["acked_by"] == "operator1"
    r = await site.client.post("/api/v1/alarms/999/ack", headers=site.bearer("operator"))
    assert r.status_code == 404


async def test_the_live_stream_needs_a_login(site: Site) -> None:
    r = await site.client.get("/api/v1/live")
    assert r.status_code == 401
    r = await site.client.get("/api/v1/live", headers={"Authorization": "Bearer cgt_made_up"})
    assert r.status_code == 401


async def test_the_ui_is_public_but_hardened(site: Site) -> None:
    r = await site.client.get("/")
    assert r.status_code == 200
    assert '<script type="module" src="/static/js/app.js">' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert (await site.client.get("/static/vendor/uplot/LICENSE")).status_code == 200
    assert (await site.client.get("/static/../plugin.py")).status_code == 404
    spec = (await site.client.get("/api/v1/openapi.json")).json()
    assert spec["info"]["title"] == "cellgate API"
