"""The first start without users: an ``admin`` with a random password, shown once.

There is no default password. The password goes to the console once and to a file only
its owner can read, and the account must change it at first login; the file is removed
when that happens.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TextIO

from plugins.auth_local.store import UserStore

INITIAL_ADMIN = "admin"
PASSWORD_FILE = "initial-admin-password.txt"  # noqa: S105 - a file name


def ensure_initial_admin(store: UserStore, data_dir: Path, console: TextIO | None = None) -> str | None:
    """Create ``admin`` when the store has no user; return its password (None if users exist)."""
    if not store.is_empty():
        return None
    password = secrets.token_urlsafe(15)  # 20 characters, 120 bits
    store.add_user(INITIAL_ADMIN, "admin", password, must_change_password=True)
    path = data_dir / PASSWORD_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    out = console or sys.stdout
    # printed, not logged: logs may travel to syslog servers, the console does not
    print(
        f"cellgate: created user '{INITIAL_ADMIN}' with password: {password}\n"
        f"cellgate: (also in {path}, readable only by its owner; it must be changed at first login)",
        file=out,
        flush=True,
    )
    return password


def forget_initial_password(data_dir: Path) -> None:
    """Remove the password file once the initial password is no longer valid."""
    try:
        (data_dir / PASSWORD_FILE).unlink()
    except FileNotFoundError:
        pass
