"""Who is asking: a Bearer API token or a browser session cookie (with CSRF check on writes),
and the role each route needs.

Every route depends on :func:`require` (or :func:`current` for the few a user with a
pending forced password change may still reach), so no route is public by accident.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPBearer

from gateway.core.commands import ROLES, Actor
from plugins.web.sessions import COOKIE_NAME, CSRF_HEADER, Session
from plugins.web.state import WebState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    actor: Actor
    session: Session | None = None
    session_id: str | None = None


def web_state(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="cellgate"'})


# declared for the OpenAPI spec (securitySchemes), so clients and fuzzers see how to log in;
# the checks themselves are ours below, with clearer refusals
_BEARER_SCHEME = HTTPBearer(auto_error=False, description="an API token: cellgate token create NAME")
_COOKIE_SCHEME = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    description="browser session from POST /api/v1/session; writes need X-CSRF-Token",
)


async def current(
    request: Request,
    _bearer: object = Security(_BEARER_SCHEME),
    _cookie: object = Security(_COOKIE_SCHEME),
) -> Principal:
    """The caller, whatever their role and even with a forced password change pending."""
    web = web_state(request)
    source = client_address(request)
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise _unauthorized("use 'Authorization: Bearer <token>'")
        token = web.local.store.verify_token(credentials.strip()) if web.local is not None else None
        if token is None:
            raise _unauthorized("invalid or revoked token")
        role = token.role
        if token.owner is not None and web.local is not None:
            owner = web.local.store.get(token.owner)
            # a token never outranks its owner, even after the owner was demoted
            if owner is not None and ROLES.index(owner.role) < ROLES.index(role):
                role = owner.role
        user = token.owner or f"token:{token.name}"
        return Principal(Actor(user=user, role=role, source=source, via="api"))

    session_id = request.cookies.get(COOKIE_NAME)
    session = web.sessions.get(session_id)
    if session is None:
        raise _unauthorized("not logged in or session expired")
    if session.local and web.local is not None:
        user_record = web.local.store.get(session.user)
        if user_record is None or user_record.disabled:
            web.sessions.delete(session_id)
            raise _unauthorized("account no longer valid")
        session.role = user_record.role  # a role change applies at once
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(403, "CSRF token missing or wrong (send the session's X-CSRF-Token)")
    return Principal(
        Actor(user=session.user, role=session.role, source=source, via="web"), session, session_id
    )


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers with at least ``role`` and no pending password change."""

    async def check(principal: Principal = Depends(current)) -> Principal:  # noqa: B008
        if principal.session is not None and principal.session.must_change_password:
            raise HTTPException(403, "password change required before anything else")
        if not principal.actor.may(role):
            raise HTTPException(403, f"this needs the {role} role (you are {principal.actor.role})")
        return principal

    return check


viewer = require("viewer")
operator = require("operator")
admin = require("admin")

# dependency singletons for route signatures (a call in a default argument would be re-evaluated
# by readers as "per request"; these are the same object every time)
Current = Depends(current)
Viewer = Depends(viewer)
Operator = Depends(operator)
Admin = Depends(admin)
