"""``cellgate user ...`` and ``cellgate token ...``: manage local users and API tokens offline.

They change the same file the running gateway reads (it notices the change), so an admin
can be added or a token revoked without a restart.
"""

from __future__ import annotations

import abc
import argparse
import sys
from pathlib import Path

import yaml

from gateway.cli.common import add_config_argument
from gateway.core.commands import ROLES
from gateway.core.components import CliCommand
from gateway.core.config import default_config_path
from plugins.auth_local.store import UserStore, UserStoreError


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument(
        "--users-file",
        type=Path,
        default=None,
        help="the user file (default: users.json in the config's data_dir)",
    )


def open_store(args: argparse.Namespace) -> UserStore:
    """The user file named on the command line, else the one of the gateway's config."""
    if args.users_file is not None:
        return UserStore.open(args.users_file)
    config_path = Path(getattr(args, "config", None) or default_config_path())
    data_dir = Path("var")
    users_file = "users.json"
    if config_path.is_file():
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        data_dir = Path(str(raw.get("data_dir", "var"))).expanduser()
        if not data_dir.is_absolute():
            data_dir = config_path.parent / data_dir
        for entry in raw.get("authenticators") or []:
            if isinstance(entry, dict) and entry.get("type") == "local" and entry.get("users_file"):
                users_file = str(entry["users_file"])
    return UserStore.open(data_dir / users_file)


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise UserStoreError("give the password on standard input with --password-stdin")
    # first line only, without its newline: `echo pw | cellgate user add ...` must work
    return sys.stdin.readline().rstrip("\r\n")


class _StoreCommand(CliCommand):
    """A subcommand acting on the user file: a refusal or an unreadable file is one line on
    stderr and exit status 1, never a traceback."""

    def run(self, args: argparse.Namespace) -> int:
        try:
            self.act(open_store(args), args)
        except (UserStoreError, OSError) as e:
            print(f"cellgate {self.name}: {e}", file=sys.stderr)
            return 1
        return 0

    @abc.abstractmethod
    def act(self, store: UserStore, args: argparse.Namespace) -> None:
        """Carry out ``args.action`` on ``store``, printing what it did."""


class UserCommand(_StoreCommand):
    name = "user"
    help = "manage local users (add, list, delete, passwd)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a user")
        add.add_argument("user_name", metavar="NAME")
        add.add_argument("--role", required=True, choices=ROLES)
        add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        add.add_argument("--must-change", action="store_true", help="force a change at first login")
        add_store_arguments(add)
        lst = sub.add_parser("list", help="list users")
        add_store_arguments(lst)
        delete = sub.add_parser("delete", help="delete a user (and revoke its tokens)")
        delete.add_argument("user_name", metavar="NAME")
        add_store_arguments(delete)
        passwd = sub.add_parser("passwd", help="set a user's password")
        passwd.add_argument("user_name", metavar="NAME")
        passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        add_store_arguments(passwd)

    def act(self, store: UserStore, args: argparse.Namespace) -> None:
        if args.action == "add":
            store.add_user(
                args.user_name, args.role, _read_password(args), must_change_password=args.must_change
            )
            print(f"user {args.user_name!r} added with role {args.role}")
        elif args.action == "list":
            print(f"{'NAME':<24} {'ROLE':<9} STATE")
            for u in store.users():
                state = (
                    "disabled"
                    if u.disabled
                    else ("must change password" if u.must_change_password else "active")
                )
                print(f"{u.name:<24} {u.role:<9} {state}")
        elif args.action == "delete":
            store.delete_user(args.user_name)
            print(f"user {args.user_name!r} deleted")
        elif args.action == "passwd":
            store.update_user(args.user_name, password=_read_password(args))
            print(f"password of {args.user_name!r} changed")


class TokenCommand(_StoreCommand):
    name = "token"
    help = "manage API tokens (create, list, revoke)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it once")
        create.add_argument("token_name", metavar="NAME")
        create.add_argument("--role", choices=ROLES, default="viewer", help="its rights (default viewer)")
        create.add_argument("--user", default=None, help="owner: the token dies with this user")
        add_store_arguments(create)
        lst = sub.add_parser("list", help="list tokens (never their secrets)")
        add_store_arguments(lst)
        revoke = sub.add_parser("revoke", help="revoke a token")
        revoke.add_argument("token_name", metavar="NAME")
        add_store_arguments(revoke)

    def act(self, store: UserStore, args: argparse.Namespace) -> None:
        if args.action == "create":
            _, secret = store.create_token(args.token_name, args.role, args.user)
            print(secret)
            print(
                f"token {args.token_name!r} ({args.role}): shown once, store it now; "
                f"use it as 'Authorization: Bearer <token>'",
                file=sys.stderr,
            )
        elif args.action == "list":
            print(f"{'NAME':<24} {'ROLE':<9} {'OWNER':<16} STATE")
            for t in store.tokens():
                state = "revoked" if t.revoked_at is not None else "active"
                print(f"{t.name:<24} {t.role:<9} {t.owner or '-':<16} {state}")
        elif args.action == "revoke":
            store.revoke_token(args.token_name)
            print(f"token {args.token_name!r} revoked")
