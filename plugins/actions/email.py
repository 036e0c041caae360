"""The ``email`` action: matching events, gathered for a few seconds, mailed over SMTP with TLS.

STARTTLS (port 587) by default, implicit TLS (465) or, only when asked, plain SMTP; the
server certificate is verified against the system's CAs or ``ca_file``. Sending is async
(aiosmtplib), so a slow server never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Literal

import aiosmtplib
from pydantic import Field, SecretStr

from gateway.core.components import GatewayContext
from gateway.core.config import Secret
from gateway.core.events import Event
from gateway.core.logging import get_logger
from plugins.actions.base import ActionConfig, EventAction

log = get_logger("plugins.actions.email")

_DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}


class EmailActionConfig(ActionConfig):
    host: str = Field(description="SMTP server (relay) name or address.")
    port: int | None = Field(None, ge=1, le=65535, description="Default: 587 starttls, 465 tls, 25 none.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls (upgrade after connecting), tls (TLS from the start) or none "
        "(plain text: only for a relay on the same host).",
    )
    username: str | None = Field(None, description="Login name, if the server wants one.")
    password: Secret | None = Field(None, description="Password: inline, {env: NAME} or {file: PATH}.")
    sender: str = Field(description="From address, e.g. cellgate@site.example.")
    recipients: list[str] = Field(min_length=1, description="To addresses.")
    subject_prefix: str = Field("[cellgate]", description="Start of every subject line.")
    batch_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Events arriving within this many seconds go "
        "into one mail (an alarm flood is one mail, not fifty).",
    )
    timeout_s: float = Field(30.0, gt=0, le=300, description="Give up on the server after this long.")
    retries: int = Field(
        3, ge=0, le=20, description="Further attempts, 10 s apart, before a mail is dropped."
    )
    ca_file: str | None = Field(None, description="Trust this CA file (PEM) instead of the system's.")
    verify: bool = Field(True, description="Verify the server certificate; false only for tests.")


def compose(events: list[Event], cfg: EmailActionConfig, site: str) -> EmailMessage:
    """One mail for a batch of events: a subject naming the worst, one line per event."""
    worst = max(events, key=lambda e: {"info": 0, "warning": 1, "alarm": 2}.get(e.level, 0))
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    msg = EmailMessage()
    msg["Subject"] = f"{cfg.subject_prefix} {site}: {worst.level.upper()} {worst.message}{more}"
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["X-Cellgate-Events"] = ",".join(str(e.id) for e in events)
    lines = []
    for e in events:
        when = datetime.fromtimestamp(e.time, UTC).isoformat(timespec="seconds")
        who = f" — by {e.actor.user} via {e.actor.via}" if e.actor else ""
        state = f" {e.state}" if e.state else ""
        lines.append(f"{when}  {e.level.upper():<7} {e.code}{state}  {e.source}\n    {e.message}{who}")
    msg.set_content(f"Site: {site}\n\n" + "\n\n".join(lines) + "\n")
    return msg


class EmailAction(EventAction):
    """Mails matching events."""

    Config = EmailActionConfig
    summary = "e-mail events over SMTP (STARTTLS or TLS), batched"

    def __init__(self, config: EmailActionConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: EmailActionConfig = config
        self._pending: list[Event] = []
        self._flush: asyncio.Task[None] | None = None
        self.sent = 0

    def _tls(self) -> ssl.SSLContext | None:
        if self.config.security == "none":
            return None
        ctx = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    async def start(self) -> None:
        if self.config.security == "none":
            log.warning("email action sends in plain text", host=self.config.host)
        if not self.config.verify:
            log.warning("email action does not verify the server certificate", host=self.config.host)
        await super().start()

    async def handle(self, event: Event) -> None:
        if len(self._pending) < 1000:  # bounded: a flood beyond this is summarized by its count
            self._pending.append(event)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._send_later())

    async def _send_later(self) -> None:
        await asyncio.sleep(self.config.batch_s)  # wall time: mail batching is about people, not the sim
        batch, self._pending = self._pending, []
        if batch:
            await self._send(batch)

    async def _send(self, batch: list[Event]) -> None:
        site = getattr(getattr(getattr(self.ctx.config, "root", self.ctx.config), "site", None), "name", "")
        msg = compose(batch, self.config, site or "cellgate")
        c = self.config
        password = c.password.get_secret_value() if isinstance(c.password, SecretStr) else None
        for attempt in range(c.retries + 1):
            try:
                await aiosmtplib.send(
                    msg,
                    hostname=c.host,
                    port=c.port or _DEFAULT_PORT[c.security],
                    username=c.username,
                    password=password,
                    use_tls=c.security == "tls",
                    start_tls=c.security == "starttls",
                    tls_context=self._tls(),
                    timeout=c.timeout_s,
                )
            except (aiosmtplib.SMTPException, OSError) as e:
                self.failures += 1
                log.warning("mail not sent", host=c.host, attempt=attempt + 1, error=str(e))
                if attempt < c.retries:
                    await asyncio.sleep(10.0)
                continue
            self.sent += 1
            return
        log.error("mail dropped after retries", events=[e.id for e in batch])

    async def stop(self) -> None:
        await super().stop()
        if self._flush is not None and not self._flush.done():
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush
        if self._pending:  # what was waiting for its batch goes out now, once
            batch, self._pending = self._pending, []
            self.config = self.config.model_copy(update={"retries": 0})
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._send(batch), self.config.timeout_s)
