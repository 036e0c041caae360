"""Local users, tokens, lockout and the first-start admin (plugins/auth_local)."""

from __future__ import annotations

import asyncio
import io
import json
import stat
from pathlib import Path

import pytest

from gateway.core.clock import ManualClock
from gateway.core.commands import CommandQueue
from gateway.core.components import AuthenticationRejected, GatewayContext
from gateway.core.events import EventBus
from plugins.auth_local.authenticator import LocalAuthConfig, LocalAuthenticator
from plugins.auth_local.first_start import PASSWORD_FILE, ensure_initial_admin
from plugins.auth_local.ratelimit import LoginThrottle
from plugins.auth_local.store import UserStore, UserStoreError


def test_passwords_are_argon2_hashes_in_an_owner_only_file(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add_user("alice", "operator", "correct horse battery")
    text = (tmp_path / "users.json").read_text()
    assert "correct horse battery" not in text
    assert json.loads(text)["users"]["alice"]["password_hash"].startswith("$argon2id$")
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600
    assert store.verify_password("alice", "correct horse battery") is not None
    assert store.verify_password("alice", "correct horse batterY") is None
    assert store.verify_password("nobody", "correct horse battery") is None


def test_refuses_weak_passwords_bad_roles_duplicates(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    with pytest.raises(UserStoreError, match="too short"):
        store.add_user("bob", "viewer", "short")
    with pytest.raises(UserStoreError, match="invalid role"):
        store.add_user("bob", "root", "long enough pw")
    with pytest.raises(UserStoreError, match="invalid name"):
        store.add_user("bob smith", "viewer", "long enough pw")
    store.add_user("bob", "viewer", "long enough pw")
    with pytest.raises(UserStoreError, match="exists"):
        store.add_user("bob", "admin", "long enough pw")


def test_last_enabled_admin_cannot_be_removed_or_demoted(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add_user("root1", "admin", "long enough pw")
    with pytest.raises(UserStoreError, match="no enabled admin"):
        store.update_user("root1", role="viewer")
    with pytest.raises(UserStoreError, match="no enabled admin"):
        store.update_user("root1", disabled=True)
    with pytest.raises(UserStoreError, match="no enabled admin"):
        store.delete_user("root1")
    assert store.get("root1").role == "admin"
    store.add_user("root2", "admin", "long enough pw")
    store.delete_user("root1")
    assert [u.name for u in store.users()] == ["root2"]


def test_tokens_are_stored_hashed_and_revocable(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add_user("ops", "operator", "long enough pw")
    _token, secret = store.create_token("scada", "operator", owner="ops")
    assert secret.startswith("cgt_")
    assert secret.split("_", 2)[2] not in (tmp_path / "users.json").read_text()
    assert store.verify_token(secret).name == "scada"
    assert store.verify_token(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert store.verify_token("garbage") is None
    with pytest.raises(UserStoreError, match="more rights"):
        store.create_token("evil", "admin", owner="ops")
    store.revoke_token("scada")
    assert store.verify_token(secret) is None


def test_a_deleted_users_tokens_stop_working(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add_user("root", "admin", "long enough pw")
    store.add_user("ops", "operator", "long enough pw")
    _, secret = store.create_token("t1", "viewer", owner="ops")
    store.delete_user("ops")
    assert store.verify_token(secret) is None


def test_changes_by_another_process_are_seen(tmp_path: Path) -> None:
    gateway_side = UserStore(tmp_path / "users.json")
    cli_side = UserStore(tmp_path / "users.json")  # a second instance = the CLI's process
    cli_side.add_user("late", "viewer", "long enough pw")
    assert gateway_side.get("late") is not None
    _, secret = cli_side.create_token("t", "viewer")
    assert gateway_side.verify_token(secret) is not None
    cli_side.revoke_token("t")
    assert gateway_side.verify_token(secret) is None


def test_first_start_creates_admin_once_with_a_0600_file(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    console = io.StringIO()
    password = ensure_initial_admin(store, tmp_path, console)
    assert password
    assert password in console.getvalue()
    pw_file = tmp_path / PASSWORD_FILE
    assert pw_file.read_text().strip() == password
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    admin = store.get("admin")
    assert admin.role == "admin"
    assert admin.must_change_password
    assert store.verify_password("admin", password) is not None
    assert ensure_initial_admin(store, tmp_path, io.StringIO()) is None  # users exist: nothing


def test_throttle_locks_after_max_failures_and_expires() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window_s=60, lockout_s=30, monotonic=lambda: now[0])
    assert not throttle.failure("u")
    assert not throttle.failure("u")
    assert throttle.failure("u")
    assert throttle.locked_for("u") == pytest.approx(30)
    now[0] = 31
    assert throttle.locked_for("u") == 0
    # failures spread wider than the window never lock
    for i in range(5):
        now[0] = 100 + i * 61
        assert not throttle.failure("v")


def _ctx(tmp_path: Path) -> GatewayContext:
    return GatewayContext(
        clock=ManualClock(1000.0),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=tmp_path,
        data_dir=tmp_path / "var",
    )


async def test_authenticator_chain_semantics_and_lockout_event(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    auth = LocalAuthenticator(LocalAuthConfig(max_failures=2, lockout_s=60), ctx)
    sub = ctx.events.subscribe()
    await auth.start()
    try:
        assert LocalAuthenticator.active is auth
        assert (ctx.data_dir / PASSWORD_FILE).exists()
        password = (ctx.data_dir / PASSWORD_FILE).read_text().strip()
        actor = await auth.authenticate("admin", password, "10.0.0.9")
        assert (actor.user, actor.role, actor.source) == ("admin", "admin", "10.0.0.9")
        assert await auth.authenticate("stranger", "whatever123", "x") is None  # next in chain
        with pytest.raises(AuthenticationRejected):
            await auth.authenticate("admin", "wrong password", "x")
        with pytest.raises(AuthenticationRejected):
            await auth.authenticate("admin", "wrong password", "x")
        event = await asyncio.wait_for(sub.get(), 1)
        assert (event.kind, event.code, event.actor.user) == ("login", "locked_out", "admin")
        with pytest.raises(AuthenticationRejected, match="locked"):
            await auth.authenticate("admin", password, "x")  # even the right password, while locked
    finally:
        await auth.stop()
    assert LocalAuthenticator.active is None
