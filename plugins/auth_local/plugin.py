"""Hook implementations of the auth_local plugin: the ``local`` authenticator and the
``cellgate user`` / ``cellgate token`` commands."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_authenticators(register: Register) -> None:
    from plugins.auth_local.authenticator import LocalAuthenticator

    register("local", LocalAuthenticator)


@hookimpl
def cellgate_register_cli_commands(register: Register) -> None:
    from plugins.auth_local.cli import TokenCommand, UserCommand

    register("user", UserCommand)
    register("token", TokenCommand)
