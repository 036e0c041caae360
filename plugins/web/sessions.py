"""Browser sessions: random ids in an HttpOnly cookie, idle and absolute expiry, a CSRF token each.

Sessions live in memory on purpose: a restart logs everyone out, which is the safe side
for a gateway, and nothing secret is ever written to disk. Expiry uses real time (a
simulator at ``--speed 1440`` must not end sessions in a second).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE_NAME = "cellgate_session"
CSRF_HEADER = "x-csrf-token"


@dataclass
class Session:
    user: str
    role: str
    source: str
    csrf_token: str
    created: float
    last_seen: float
    must_change_password: bool
    local: bool  # a user of the local store (can change its own password here)
    expires_wall: float  # for the client: when the absolute limit ends it, epoch seconds


class SessionStore:
    """Sessions by id (kept hashed, so a memory dump or a log line shows no usable id)."""

    def __init__(
        self,
        idle_s: float,
        max_s: float,
        max_sessions: int = 1000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_s = idle_s
        self.max_s = max_s
        self.max_sessions = max_sessions
        self._now = monotonic
        self._sessions: dict[str, Session] = {}

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def create(
        self, user: str, role: str, source: str, *, must_change_password: bool, local: bool
    ) -> tuple[str, Session]:
        self._expire()
        if len(self._sessions) >= self.max_sessions:
            # drop the least recently used session rather than refuse a legitimate login
            oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen)
            del self._sessions[oldest]
        session_id = secrets.token_urlsafe(32)
        now = self._now()
        session = Session(
            user,
            role,
            source,
            secrets.token_urlsafe(32),
            now,
            now,
            must_change_password,
            local,
            time.time() + self.max_s,
        )
        self._sessions[self._key(session_id)] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of ``session_id`` (touching it), or None when unknown or expired."""
        if not session_id:
            return None
        key = self._key(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._now()
        if now - session.last_seen > self.idle_s or now - session.created > self.max_s:
            del self._sessions[key]
            return None
        session.last_seen = now
        return session

    def delete(self, session_id: str | None) -> Session | None:
        return self._sessions.pop(self._key(session_id), None) if session_id else None

    def delete_user(self, user: str, keep: Session | None = None) -> int:
        """End every session of ``user`` (deleted, disabled, password reset) except ``keep``."""
        doomed = [k for k, s in self._sessions.items() if s.user == user and s is not keep]
        for k in doomed:
            del self._sessions[k]
        return len(doomed)

    def _expire(self) -> None:
        now = self._now()
        for k in [
            k
            for k, s in self._sessions.items()
            if now - s.last_seen > self.idle_s or now - s.created > self.max_s
        ]:
            del self._sessions[k]

    def __len__(self) -> int:
        return len(self._sessions)
