"""Local users and API tokens, kept in one JSON file readable only by its owner.

Passwords are argon2 hashes; API tokens are random and stored as SHA-256 digests (they
carry 256 bits of entropy, so a slow hash would only slow every API call). The gateway
and the ``cellgate user``/``token`` commands may change the file at the same time: every
change takes an exclusive lock and re-reads the file first.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.core.commands import ROLES

FILE_VERSION = 1
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cgt_"  # noqa: S105 - a prefix, not a secret
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserStoreError(ValueError):
    """A refused change: unknown user, bad role, weak password, duplicate name."""


@dataclass
class User:
    name: str
    role: str
    password_hash: str
    must_change_password: bool = False
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    def public(self) -> dict[str, Any]:
        """What may leave the store (never the hash)."""
        return {
            "name": self.name,
            "role": self.role,
            "must_change_password": self.must_change_password,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class ApiToken:
    name: str
    token_id: str
    secret_sha256: str
    role: str
    owner: str | None = None
    created_at: float = 0.0
    revoked_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "owner": self.owner,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


@dataclass
class _Data:
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, ApiToken] = field(default_factory=dict)


def check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise UserStoreError(
            f"invalid name {name!r}: 1–64 characters, letters, digits and . _ @ - (not first)"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserStoreError(f"invalid role {role!r}: one of {', '.join(ROLES)}")
    return role


def check_password(password: str, user: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserStoreError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == user.lower():
        raise UserStoreError("password must not be the user name")
    return password


class UserStore:
    """Users and tokens of one file. Use :meth:`open` to share one instance per file."""

    _instances: dict[Path, UserStore] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self.hasher = hasher or PasswordHasher()
        self._data = _Data()
        self._mtime_ns: int | None = None
        self._lock = threading.RLock()
        # a dummy hash to verify against for unknown users, so that timing does not tell
        # which user names exist
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        self._reload(force=True)

    @classmethod
    def open(cls, path: Path) -> UserStore:
        """The process-wide store of ``path`` (the web service and the authenticator share it)."""
        key = path.expanduser().resolve()
        with cls._instances_lock:
            store = cls._instances.get(key)
            if store is None:
                store = cls._instances[key] = cls(key)
            return store

    # -- reading ------------------------------------------------------------------------

    def _reload(self, force: bool = False) -> None:
        """Re-read the file when another process (the CLI) changed it."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            if force or self._mtime_ns is not None:
                self._data, self._mtime_ns = _Data(), None
            return
        if not force and mtime == self._mtime_ns:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        self._data = _Data(
            users={n: User(**u) for n, u in raw.get("users", {}).items()},
            tokens={n: ApiToken(**t) for n, t in raw.get("tokens", {}).items()},
        )
        self._mtime_ns = mtime

    def users(self) -> list[User]:
        with self._lock:
            self._reload()
            return sorted(self._data.users.values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        with self._lock:
            self._reload()
            return self._data.users.get(name)

    def tokens(self) -> list[ApiToken]:
        with self._lock:
            self._reload()
            return sorted(self._data.tokens.values(), key=lambda t: t.name)

    def is_empty(self) -> bool:
        with self._lock:
            self._reload()
            return not self._data.users

    # -- verifying ----------------------------------------------------------------------

    def verify_password(self, name: str, password: str) -> User | None:
        """The user when ``password`` is right and the account enabled; slow (argon2) by design."""
        user = self.get(name)
        if user is None or user.disabled:
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(self._dummy_hash, password)
            return None
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(user.password_hash):
            with self._changing() as data:
                if name in data.users:
                    data.users[name].password_hash = self.hasher.hash(password)
        return user

    def verify_token(self, token: str) -> ApiToken | None:
        """The live token ``token`` names, or None; fast (one SHA-256)."""
        parts = token.split("_", 2) if token.startswith(TOKEN_PREFIX) else []
        if len(parts) != 3:
            return None
        token_id, secret = parts[1], parts[2]
        with self._lock:
            self._reload()
            match = next((t for t in self._data.tokens.values() if t.token_id == token_id), None)
            if match is None or match.revoked_at is not None:
                return None
            if match.owner is not None:
                owner = self._data.users.get(match.owner)
                if owner is None or owner.disabled:
                    return None
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return match if hmac.compare_digest(digest, match.secret_sha256) else None

    # -- changing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self) -> Iterator[_Data]:
        """Lock the file, re-read it, let the caller change the data, write it back atomically."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._reload(force=True)
                yield self._data
                self._write()
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _write(self) -> None:
        body = {
            "version": FILE_VERSION,
            "users": {n: asdict(u) for n, u in self._data.users.items()},
            "tokens": {n: asdict(t) for n, t in self._data.tokens.items()},
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # an existing tmp file may have had looser bits
        os.replace(tmp, self.path)
        self._mtime_ns = self.path.stat().st_mtime_ns

    def add_user(self, name: str, role: str, password: str, *, must_change_password: bool = False) -> User:
        check_name(name)
        check_role(role)
        check_password(password, name)
        password_hash = self.hasher.hash(password)
        now = time.time()
        with self._changing() as data:
            if name in data.users:
                raise UserStoreError(f"user {name!r} exists already")
            user = User(name, role, password_hash, must_change_password, False, now, now)
            data.users[name] = user
        return user

    def update_user(
        self,
        name: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        must_change_password: bool | None = None,
    ) -> User:
        """Change what is given; refuses to leave the site without an enabled admin."""
        if role is not None:
            check_role(role)
        password_hash = self.hasher.hash(check_password(password, name)) if password is not None else None
        with self._changing() as data:
            user = data.users.get(name)
            if user is None:
                raise UserStoreError(f"no user {name!r}")
            old = (user.role, user.disabled)
            if role is not None:
                user.role = role
            if disabled is not None:
                user.disabled = disabled
            if (old[0] == "admin" and not old[1]) and not _has_admin(data):
                user.role, user.disabled = old
                raise UserStoreError("refused: this would leave no enabled admin")
            if password_hash is not None:
                user.password_hash = password_hash
            if must_change_password is not None:
                user.must_change_password = must_change_password
            user.updated_at = time.time()
            return user

    def change_own_password(self, name: str, old_password: str, new_password: str) -> User:
        """A user's own change: needs the old password, clears the forced-change flag."""
        if self.verify_password(name, old_password) is None:
            raise UserStoreError("the current password is wrong")
        if new_password == old_password:
            raise UserStoreError("the new password must differ from the current one")
        return self.update_user(name, password=new_password, must_change_password=False)

    def delete_user(self, name: str) -> None:
        with self._changing() as data:
            user = data.users.pop(name, None)
            if user is None:
                raise UserStoreError(f"no user {name!r}")
            if not _has_admin(data):
                data.users[name] = user
                raise UserStoreError("refused: this would leave no enabled admin")
            # a deleted user's tokens die with it
            for token in data.tokens.values():
                if token.owner == name and token.revoked_at is None:
                    token.revoked_at = time.time()

    def create_token(self, name: str, role: str, owner: str | None = None) -> tuple[ApiToken, str]:
        """A new token and its secret text, which is shown once and never stored."""
        check_name(name)
        check_role(role)
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self._changing() as data:
            if name in data.tokens and data.tokens[name].revoked_at is None:
                raise UserStoreError(f"token {name!r} exists already (revoke it first)")
            if owner is not None:
                owner_user = data.users.get(owner)
                if owner_user is None:
                    raise UserStoreError(f"no user {owner!r}")
                if _ROLE_RANK[role] > _ROLE_RANK[owner_user.role]:
                    raise UserStoreError(
                        f"a token cannot have more rights than its owner ({owner_user.role})"
                    )
            token = ApiToken(
                name, token_id, hashlib.sha256(secret.encode()).hexdigest(), role, owner, time.time()
            )
            data.tokens[name] = token
        return token, f"{TOKEN_PREFIX}{token_id}_{secret}"

    def revoke_token(self, name: str) -> ApiToken:
        with self._changing() as data:
            token = data.tokens.get(name)
            if token is None or token.revoked_at is not None:
                raise UserStoreError(f"no live token {name!r}")
            token.revoked_at = time.time()
            return token


_ROLE_RANK = {r: i for i, r in enumerate(ROLES)}


def _has_admin(data: _Data) -> bool:
    return any(u.role == "admin" and not u.disabled for u in data.users.values())
