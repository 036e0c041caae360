"""Alarm actions: which events they take, log lines, programs run safely, mail over STARTTLS and TLS."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import ssl
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.core.clock import ManualClock
from gateway.core.commands import Actor, CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import Event, EventBus
from plugins.actions.base import matches
from plugins.actions.command import CommandAction, CommandActionConfig
from plugins.actions.email import EmailAction, EmailActionConfig
from plugins.actions.log import LogAction

RAISED = Event(
    1.7e9,
    "alarm",
    "thermal_runaway",
    "Thermal runaway (strings[0].units[6])",
    "alarm",
    "strings[0].units[6]",
    "raised",
    data={"alarm_id": 7},
)
ACKED = Event(
    1.7e9 + 60,
    "alarm",
    "thermal_runaway",
    "acknowledged by olga",
    "alarm",
    "strings[0].units[6]",
    "acknowledged",
    actor=Actor("olga", "operator", "10.0.0.5", "web"),
)
LOGIN = Event(1.7e9, "login", "login_failed", "login of eve refused", "warning")
INFO = Event(1.7e9, "system", "started", "gateway started")


def _ctx(tmp_path: Path) -> GatewayContext:
    return GatewayContext(
        clock=ManualClock(1.7e9),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=tmp_path,
        data_dir=tmp_path / "var",
        config=SimpleNamespace(site=SimpleNamespace(name="DC Nord")),
    )


async def _deliver(action: Any, ctx: GatewayContext, *events: Event) -> None:
    await action.start()
    try:
        for e in events:
            ctx.events.publish(e)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if action._sub.queue.empty():
                break
    finally:
        await action.stop()


def test_selectors() -> None:
    assert matches(RAISED, ["alarm"], "warning")
    assert matches(RAISED, ["alarm:raised"], "alarm")
    assert not matches(ACKED, ["alarm:raised"], "info")
    assert matches(LOGIN, ["login.login_*"], "warning")
    assert not matches(LOGIN, ["login.login_*"], "alarm")
    assert not matches(INFO, ["*"], "warning")
    assert matches(INFO, ["*"], "info")
    assert matches(ACKED, ["alarm.thermal_runaway:ack*"], "info")


async def test_log_action_writes_one_line_per_matching_event(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    action = LogAction(LogAction.Config.model_validate({"on": ["alarm", "login"]}), ctx)
    with structlog.testing.capture_logs() as logs:
        await _deliver(action, ctx, RAISED, INFO, ACKED, LOGIN)
    lines = [(entry["log_level"], entry["code"], entry.get("state")) for entry in logs if "code" in entry]
    assert lines == [
        ("error", "thermal_runaway", "raised"),
        ("error", "thermal_runaway", "acknowledged"),
        ("warning", "login_failed", None),
    ]
    assert next(entry for entry in logs if entry.get("state") == "acknowledged")["user"] == "olga"


async def test_command_action_gets_the_event_as_json_and_env_without_a_shell(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    out = tmp_path / "seen.jsonl"
    script = (
        "import json, os, sys; e = json.load(sys.stdin); "
        f"open({str(out)!r}, 'a').write(json.dumps([e['code'], e['state'], "
        "os.environ['CELLGATE_EVENT_SOURCE'], os.environ['CELLGATE_EVENT_MESSAGE']]) + '\\n')"
    )
    cfg = CommandActionConfig.model_validate({"argv": [sys.executable, "-c", script], "on": ["alarm:raised"]})
    action = CommandAction(cfg, ctx)
    sneaky = Event(
        1.7e9,
        "alarm",
        "unit_fuse_open",
        "$(touch pwned); `touch pwned2`",
        "alarm",
        "strings[0].units[1]",
        "raised",
    )
    await _deliver(action, ctx, RAISED, ACKED, sneaky)
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(seen) == sorted(
        [
            ["thermal_runaway", "raised", "strings[0].units[6]", RAISED.message],
            ["unit_fuse_open", "raised", "strings[0].units[1]", sneaky.message],
        ]
    )
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "pwned2").exists()
    assert action.failures == 0


async def test_command_action_counts_failures_and_timeouts(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    slow = CommandAction(
        CommandActionConfig.model_validate(
            {"argv": [sys.executable, "-c", "import time; time.sleep(30)"], "timeout_s": 0.3}
        ),
        ctx,
    )
    await _deliver(slow, ctx, RAISED)
    assert slow.failures == 1
    missing = CommandAction(CommandActionConfig(argv=[str(tmp_path / "no-such-program")]), ctx)
    await _deliver(missing, ctx, RAISED)
    assert missing.failures == 1


# --------------------------------------------------------------------------- e-mail
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"gw" and data.password == b"s3cret"
    return AuthResult(success=ok)


def _server(inbox: Inbox, port: int, cert: Path, key: Path, *, implicit: bool) -> Controller:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    if implicit:
        # aiosmtpd counts only STARTTLS as TLS when offering AUTH (and warns about it, see the test's
        # filterwarnings): this whole session is TLS, so its requirement is lifted here
        return Controller(
            inbox,
            hostname="127.0.0.1",
            port=port,
            ssl_context=tls,
            authenticator=_auth,
            auth_required=True,
            auth_require_tls=False,
        )
    return Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        authenticator=_auth,
        auth_required=True,
    )


def _mail_config(port: int, cert: Path, security: str, **kw: Any) -> EmailActionConfig:
    return EmailActionConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "username": "gw",
            "password": "s3cret",
            "sender": "cellgate@dc-nord.example",
            "recipients": ["ops@dc-nord.example"],
            "batch_s": 0.2,
            "ca_file": str(cert),
            "retries": 0,
            "timeout_s": 5,
            **kw,
        }
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_email_is_sent_over_tls_in_one_batch(
    tmp_path: Path, free_port: int, certificate: tuple[Path, Path], security: str
) -> None:
    cert, key = certificate
    inbox = Inbox()
    server = _server(inbox, free_port, cert, key, implicit=security == "tls")
    server.start()
    try:
        ctx = _ctx(tmp_path)
        action = EmailAction(_mail_config(free_port, cert, security), ctx)
        await action.start()
        for e in (RAISED, ACKED, INFO):
            ctx.events.publish(e)
        for _ in range(300):
            await asyncio.sleep(0.02)
            if inbox.mails:
                break
        await action.stop()
    finally:
        server.stop()
    (mail,) = inbox.mails
    sender, rcpts, content = mail
    assert sender == "cellgate@dc-nord.example"
    assert rcpts == ["ops@dc-nord.example"]
    parsed = email.message_from_string(content, policy=email.policy.default)
    assert (
        parsed["Subject"].strip()
        == "[cellgate] DC Nord: ALARM Thermal runaway (strings[0].units[6]) (+1 more)"
    )
    body = parsed.get_content()
    assert "thermal_runaway raised" in body
    assert "by olga via web" in body
    assert "gateway started" not in body  # info events are below the default min_level


async def test_email_refuses_an_untrusted_server_and_a_wrong_password(
    tmp_path: Path, free_port: int, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    inbox = Inbox()
    server = _server(inbox, free_port, cert, key, implicit=False)
    server.start()
    try:
        for cfg in (
            _mail_config(free_port, cert, "starttls", ca_file=None),  # system CAs do not know it
            _mail_config(free_port, cert, "starttls", password="guess"),
        ):
            ctx = _ctx(tmp_path)
            action = EmailAction(cfg, ctx)
            await action.start()
            ctx.events.publish(RAISED)
            for _ in range(300):
                await asyncio.sleep(0.02)
                if action.failures:
                    break
            await action.stop()
            assert action.failures >= 1
            assert action.sent == 0
    finally:
        server.stop()
    assert inbox.mails == []
