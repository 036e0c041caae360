"""``cellgate user`` and ``cellgate token`` (the CliCommand classes of plugins/auth_local)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from gateway.core.components import CliCommand
from plugins.auth_local.cli import TokenCommand, UserCommand
from plugins.auth_local.store import UserStore


def _run(command: CliCommand, argv: list[str], stdin: str = "", monkeypatch=None) -> int:
    parser = argparse.ArgumentParser(prog=f"cellgate {command.name}")
    command.configure(parser)
    args = parser.parse_args(argv)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return command.run(args)


def test_user_add_list_with_password_from_stdin(tmp_path: Path, monkeypatch, capsys) -> None:
    users = str(tmp_path / "users.json")
    rc = _run(
        UserCommand(),
        ["add", "carol", "--role", "operator", "--password-stdin", "--users-file", users],
        "a long password\n",
        monkeypatch,
    )
    assert rc == 0
    assert UserStore(Path(users)).verify_password("carol", "a long password") is not None
    assert _run(UserCommand(), ["list", "--users-file", users], monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert "carol" in out
    assert "operator" in out
    assert "a long password" not in out


def test_user_add_refuses_without_stdin_flag_and_weak_password(tmp_path: Path, monkeypatch, capsys) -> None:
    users = str(tmp_path / "users.json")
    assert (
        _run(UserCommand(), ["add", "dave", "--role", "viewer", "--users-file", users], "x" * 20, monkeypatch)
        == 1
    )
    assert "--password-stdin" in capsys.readouterr().err
    assert (
        _run(
            UserCommand(),
            ["add", "dave", "--role", "viewer", "--password-stdin", "--users-file", users],
            "short\n",
            monkeypatch,
        )
        == 1
    )
    assert "too short" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse refuses an unknown role
        _run(UserCommand(), ["add", "dave", "--role", "god", "--password-stdin"], "", monkeypatch)


def test_token_create_prints_once_and_revoke(tmp_path: Path, monkeypatch, capsys) -> None:
    users = str(tmp_path / "users.json")
    assert _run(TokenCommand(), ["create", "nagios", "--users-file", users], monkeypatch=monkeypatch) == 0
    secret = capsys.readouterr().out.strip()
    store = UserStore(Path(users))
    token = store.verify_token(secret)
    assert token is not None
    assert token.role == "viewer"
    assert _run(TokenCommand(), ["list", "--users-file", users], monkeypatch=monkeypatch) == 0
    listing = capsys.readouterr().out
    assert "nagios" in listing
    assert secret not in listing
    assert _run(TokenCommand(), ["revoke", "nagios", "--users-file", users], monkeypatch=monkeypatch) == 0
    assert store.verify_token(secret) is None


def test_store_found_from_the_gateway_config(tmp_path: Path, monkeypatch, capsys) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text("site: {name: x}\ndata_dir: state\n")
    parser = argparse.ArgumentParser()
    UserCommand().configure(parser)
    args = parser.parse_args(["add", "erin", "--role", "admin", "--password-stdin"])
    args.config = str(cfg)  # the global -c option of the cellgate CLI
    monkeypatch.setattr("sys.stdin", io.StringIO("erins password\n"))
    assert UserCommand().run(args) == 0
    assert UserStore(tmp_path / "state" / "users.json").get("erin").role == "admin"


def test_the_cellgate_command_adds_users_and_tokens(tmp_path: Path, cellgate_bin: str) -> None:
    import subprocess

    cfg = tmp_path / "site.yaml"
    cfg.write_text("site: {name: x}\ndata_dir: state\n")
    run = subprocess.run(
        [cellgate_bin, "user", "add", "frank", "--role", "operator", "--password-stdin", "-c", str(cfg)],
        input="franks password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    run = subprocess.run(
        [cellgate_bin, "user", "list", "-c", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert "frank" in run.stdout
    assert "operator" in run.stdout
    run = subprocess.run(
        [cellgate_bin, "token", "create", "ci", "--role", "viewer", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert UserStore(tmp_path / "state" / "users.json").verify_token(token).name == "ci"
