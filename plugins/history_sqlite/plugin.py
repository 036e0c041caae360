"""Hook implementations of the history_sqlite plugin: the SQLite sink and its CLI commands."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_history_sinks(register: Register) -> None:
    from plugins.history_sqlite.sink import SqliteHistory

    register("sqlite", SqliteHistory)


@hookimpl
def cellgate_register_cli_commands(register: Register) -> None:
    from plugins.history_sqlite.cli import EventsCommand, HistoryCommand

    register("events", EventsCommand)
    register("history", HistoryCommand)
