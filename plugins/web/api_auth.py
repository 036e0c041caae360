"""Login, logout, own password change, and the admin's users and tokens — each an event.

Logins go through the gateway's authenticator chain; users and tokens are those of the
local store (the ``local`` authenticator). Failed logins are throttled per address.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response

from gateway.core.commands import Actor
from plugins.auth_local.first_start import INITIAL_ADMIN, forget_initial_password
from plugins.auth_local.store import UserStore, UserStoreError
from plugins.web.schemas import (
    LoginIn,
    PasswordChangeIn,
    SessionOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from plugins.web.security import Admin, Current, Principal, client_address, web_state
from plugins.web.sessions import COOKIE_NAME, Session
from plugins.web.state import WebState

router = APIRouter(prefix="/api/v1", tags=["session and users"])
T = TypeVar("T")


def _session_out(session: Session, via: str = "web") -> SessionOut:
    return SessionOut(
        user=session.user,
        role=session.role,
        via=via,
        must_change_password=session.must_change_password,
        csrf_token=session.csrf_token,
        expires_at=session.expires_wall,
    )


def _store(web: WebState) -> UserStore:
    if web.local is None:
        raise HTTPException(404, "local users are not enabled (no 'local' authenticator)")
    return web.local.store


def _exists_is_conflict(message: str) -> int:
    return 409 if "exists" in message else 400


def _no_user_is_missing(message: str) -> int:
    return 404 if message.startswith("no user") else 400


async def _change_store(
    status_for: Callable[[str], int], change: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run a user-store change in a thread (it hashes passwords and rewrites the file); a change
    the store refuses becomes an HTTP error with the status ``status_for`` picks from its message."""
    try:
        return await asyncio.to_thread(change, *args, **kwargs)
    except UserStoreError as e:
        raise HTTPException(status_for(str(e)), str(e)) from None


@router.post("/session", response_model=SessionOut, summary="Log in (sets the session cookie)")
async def login(body: LoginIn, request: Request, response: Response) -> SessionOut:
    web = web_state(request)
    source = client_address(request)
    wait = web.source_throttle.locked_for(source)
    if wait > 0:
        raise HTTPException(
            429,
            "too many failed logins from this address; try later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    actor = await web.authenticate(body.user, body.password, source)
    if actor is None:
        if web.source_throttle.failure(source):
            web.publish(
                "login",
                "address_blocked",
                f"logins from {source} blocked for {web.config.login_lockout_s:.0f} s after "
                f"{web.config.login_max_failures} failures",
                Actor(user=body.user, role="none", source=source, via="web"),
                level="warning",
            )
        raise HTTPException(401, "invalid user name or password, or account locked")
    web.source_throttle.success(source)
    record = web.local.store.get(actor.user) if web.local is not None else None
    session_id, session = web.sessions.create(
        actor.user,
        actor.role,
        source,
        must_change_password=bool(record and record.must_change_password),
        local=record is not None,
    )
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
        path="/",
    )
    return _session_out(session)


@router.get("/session", response_model=SessionOut, summary="Who am I (and the CSRF token)")
async def whoami(principal: Principal = Current) -> SessionOut:
    if principal.session is None:
        return SessionOut(
            user=principal.actor.user,
            role=principal.actor.role,
            via=principal.actor.via,
            must_change_password=False,
            csrf_token=None,
            expires_at=None,
        )
    return _session_out(principal.session)


@router.delete("/session", status_code=204, summary="Log out")
async def logout(request: Request, principal: Principal = Current) -> Response:
    web = web_state(request)
    web.sessions.delete(principal.session_id)
    web.publish("login", "logout", f"{principal.actor.user} logged out", principal.actor)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.post("/session/password", response_model=SessionOut, summary="Change my own password")
async def change_password(
    body: PasswordChangeIn, request: Request, principal: Principal = Current
) -> SessionOut:
    web = web_state(request)
    store = _store(web)
    if principal.session is None or not principal.session.local:
        raise HTTPException(400, "only a local user's browser session can change its password here")
    await _change_store(
        lambda _: 400, store.change_own_password, principal.actor.user, body.old_password, body.new_password
    )
    if principal.actor.user == INITIAL_ADMIN:
        forget_initial_password(web.ctx.data_dir)
    principal.session.must_change_password = False
    web.sessions.delete_user(principal.actor.user, keep=principal.session)  # log out other browsers
    web.publish(
        "command", "password_change", f"{principal.actor.user} changed their password", principal.actor
    )
    return _session_out(principal.session)


@router.get("/users", response_model=list[UserOut], summary="Local users (admin)")
async def list_users(request: Request, _: Principal = Admin) -> list[UserOut]:
    return [UserOut(**u.public()) for u in _store(web_state(request)).users()]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a local user (admin)")
async def add_user(body: UserIn, request: Request, principal: Principal = Admin) -> UserOut:
    web = web_state(request)
    user = await _change_store(
        _exists_is_conflict,
        _store(web).add_user,
        body.name,
        body.role,
        body.password,
        must_change_password=body.must_change_password,
    )
    web.publish(
        "command",
        "user_add",
        f"{principal.actor.user} added user {body.name!r} ({body.role})",
        principal.actor,
        data={"user": body.name, "role": body.role},
    )
    return UserOut(**user.public())


@router.patch(
    "/users/{name}", response_model=UserOut, summary="Change a user's role, state or password (admin)"
)
async def update_user(name: str, body: UserPatch, request: Request, principal: Principal = Admin) -> UserOut:
    web = web_state(request)
    store = _store(web)
    user = await _change_store(
        _no_user_is_missing,
        store.update_user,
        name,
        role=body.role,
        disabled=body.disabled,
        password=body.password,
        must_change_password=True if body.password is not None else None,
    )
    if body.password is not None or body.disabled:
        web.sessions.delete_user(name)
        if web.local is not None:
            web.local.throttle.unlock(name)
    changes = body.model_dump(exclude_none=True)
    if "password" in changes:
        changes["password"] = "(reset)"  # noqa: S105 - the audit text hides it
    web.publish(
        "command",
        "user_update",
        f"{principal.actor.user} changed user {name!r}: {changes}",
        principal.actor,
        data={"user": name, "changes": changes},
    )
    return UserOut(**user.public())


@router.delete("/users/{name}", status_code=204, summary="Delete a user and revoke its tokens (admin)")
async def delete_user(name: str, request: Request, principal: Principal = Admin) -> Response:
    web = web_state(request)
    await _change_store(_no_user_is_missing, _store(web).delete_user, name)
    web.sessions.delete_user(name)
    web.publish(
        "command",
        "user_delete",
        f"{principal.actor.user} deleted user {name!r}",
        principal.actor,
        data={"user": name},
    )
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens, never their secrets (admin)")
async def list_tokens(request: Request, _: Principal = Admin) -> list[TokenOut]:
    return [TokenOut(**t.public()) for t in _store(web_state(request)).tokens()]


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Create an API token (admin)")
async def create_token(body: TokenIn, request: Request, principal: Principal = Admin) -> TokenCreated:
    web = web_state(request)
    store = _store(web)
    owner = principal.actor.user if store.get(principal.actor.user) is not None else None
    token, secret = await _change_store(_exists_is_conflict, store.create_token, body.name, body.role, owner)
    web.publish(
        "command",
        "token_create",
        f"{principal.actor.user} created API token {body.name!r} ({body.role})",
        principal.actor,
        data={"token": body.name, "role": body.role},
    )
    return TokenCreated(**token.public(), token=secret)


@router.delete("/tokens/{name}", status_code=204, summary="Revoke an API token (admin)")
async def revoke_token(name: str, request: Request, principal: Principal = Admin) -> Response:
    web = web_state(request)
    await _change_store(lambda _: 404, _store(web).revoke_token, name)
    web.publish(
        "command",
        "token_revoke",
        f"{principal.actor.user} revoked API token {name!r}",
        principal.actor,
        data={"token": name},
    )
    return Response(status_code=204)
