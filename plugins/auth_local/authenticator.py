"""The ``local`` authenticator: users of the gateway's own user file, with lockout.

It owns the user names in its file: a wrong password for one of them stops the chain
(:class:`AuthenticationRejected`); an unknown name is passed on to the next authenticator
(RADIUS, ...). Repeated failures lock the account for a while and are published as events.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import Field

from gateway.core.commands import Actor
from gateway.core.components import (
    AuthenticationRejected,
    Authenticator,
    ComponentConfig,
    GatewayContext,
)
from gateway.core.events import Event
from plugins.auth_local.first_start import ensure_initial_admin
from plugins.auth_local.ratelimit import LoginThrottle
from plugins.auth_local.store import UserStore


class LocalAuthConfig(ComponentConfig):
    users_file: str = Field(
        "users.json", description="User and token file, relative to data_dir; created 0600 on first start."
    )
    create_initial_admin: bool = Field(
        True, description="On first start with no users, create 'admin' with a random password shown once."
    )
    max_failures: int = Field(5, ge=1, le=100, description="Failed logins of one user that lock it out.")
    failure_window_s: float = Field(300.0, gt=0, description="Window in which failures are counted, s.")
    lockout_s: float = Field(300.0, ge=0, description="How long a locked-out user must wait, s.")


class LocalAuthenticator(Authenticator):
    """Local users (argon2 passwords, roles viewer/operator/admin) and API tokens."""

    Config = LocalAuthConfig
    summary = "local users with argon2 passwords, API tokens, lockout"

    #: the instance of the running gateway, for the web service's user pages and tokens
    active: ClassVar[LocalAuthenticator | None] = None

    def __init__(self, config: LocalAuthConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: LocalAuthConfig = config
        self.store = UserStore.open(ctx.data_dir / config.users_file)
        self.throttle = LoginThrottle(config.max_failures, config.failure_window_s, config.lockout_s)

    async def start(self) -> None:
        if self.config.create_initial_admin:
            await asyncio.to_thread(ensure_initial_admin, self.store, self.ctx.data_dir)
        LocalAuthenticator.active = self

    async def stop(self) -> None:
        if LocalAuthenticator.active is self:
            LocalAuthenticator.active = None

    async def authenticate(self, user: str, password: str, source: str) -> Actor | None:
        if self.throttle.locked_for(user) > 0:
            raise AuthenticationRejected("account temporarily locked after repeated failures")
        found = await asyncio.to_thread(self.store.verify_password, user, password)
        if found is not None:
            self.throttle.success(user)
            return Actor(user=found.name, role=found.role, source=source)
        if self.store.get(user) is None:
            return None  # not ours: the next authenticator may know this name
        if self.throttle.failure(user):
            self.ctx.events.publish(
                Event(
                    time=self.ctx.clock.now(),
                    kind="login",
                    code="locked_out",
                    level="warning",
                    source="auth.local",
                    message=f"user {user!r} locked out for {self.config.lockout_s:.0f} s after "
                    f"{self.config.max_failures} failed logins",
                    actor=Actor(user=user, role="", source=source),
                )
            )
        raise AuthenticationRejected("wrong password")
