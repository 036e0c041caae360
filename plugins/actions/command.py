"""The ``command`` action: run a program per matching event, the event as JSON on stdin and in env.

The program is started without a shell (no quoting pitfalls, no injection through messages),
with a timeout, and at most a few at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os

from pydantic import Field

from gateway.core.components import GatewayContext
from gateway.core.events import Event
from gateway.core.logging import get_logger
from plugins.actions.base import ActionConfig, EventAction, event_json

log = get_logger("plugins.actions.command")


class CommandActionConfig(ActionConfig):
    argv: list[str] = Field(
        min_length=1,
        description="Program and arguments, e.g. [/usr/local/bin/page, --team, ups]; no shell is involved.",
    )
    timeout_s: float = Field(30.0, gt=0, le=3600, description="The program is killed after this long.")
    max_running: int = Field(4, ge=1, le=64, description="At most this many at once; more events wait.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")


def event_env(event: Event) -> dict[str, str]:
    """CELLGATE_EVENT_* variables describing the event."""
    env = {
        "CELLGATE_EVENT_ID": str(event.id),
        "CELLGATE_EVENT_TIME": f"{event.time:.3f}",
        "CELLGATE_EVENT_KIND": event.kind,
        "CELLGATE_EVENT_CODE": event.code,
        "CELLGATE_EVENT_LEVEL": event.level,
        "CELLGATE_EVENT_STATE": event.state or "",
        "CELLGATE_EVENT_SOURCE": event.source,
        "CELLGATE_EVENT_MESSAGE": event.message,
    }
    if event.actor is not None:
        env["CELLGATE_EVENT_USER"] = event.actor.user
    return env


class CommandAction(EventAction):
    """Runs a program for each matching event."""

    Config = CommandActionConfig
    summary = "run a program with the event as JSON (stdin) and CELLGATE_EVENT_* variables"

    def __init__(self, config: CommandActionConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: CommandActionConfig = config
        self._slots = asyncio.Semaphore(config.max_running)
        self._running: set[asyncio.Task[None]] = set()

    async def handle(self, event: Event) -> None:
        # do not wait for the program here: the next event need not queue behind a slow one
        task = asyncio.create_task(self._run_one(event))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_one(self, event: Event) -> None:
        async with self._slots:
            env = {**os.environ, **self.config.env, **event_env(event)}
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.config.argv,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    env=env,
                    cwd=self.ctx.config_dir,
                )
            except OSError as e:
                self.failures += 1
                log.warning("cannot run action command", argv=self.config.argv, error=str(e))
                return
            payload = json.dumps(event_json(event), default=str).encode()
            try:
                out, _ = await asyncio.wait_for(proc.communicate(payload), self.config.timeout_s)
            except TimeoutError:
                self.failures += 1
                log.warning(
                    "action command timed out", argv=self.config.argv, timeout_s=self.config.timeout_s
                )
                return
            finally:
                if proc.returncode is None:  # timed out, or the gateway is stopping: no orphans
                    proc.kill()
                    await proc.wait()
            if proc.returncode:
                self.failures += 1
                log.warning(
                    "action command failed",
                    argv=self.config.argv,
                    status=proc.returncode,
                    output=out.decode(errors="replace")[-500:],
                )

    async def stop(self) -> None:
        await super().stop()
        if self._running:  # let programs already started finish, within their timeout
            with contextlib.suppress(Exception):
                await asyncio.wait(self._running, timeout=self.config.timeout_s + 1)
            for task in list(self._running):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
