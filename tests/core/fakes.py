"""A plugin of test doubles: a fake monitor model, a loop-back transport, recording components.

Used to test the core contract without any real plugin; the real plugins are tested in
their own folders against real peers.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from gateway.core.components import (
    AlarmAction,
    Authenticator,
    CliCommand,
    ComponentConfig,
    HistorySink,
    MonitorDriver,
    Service,
    Transport,
)
from gateway.hookspecs import hookimpl

#: start/stop calls of every recording component, in order
CALLS: list[str] = []


class FakeDriver(MonitorDriver):
    model = "FAKE1"
    code = 9999


class NullTransportConfig(ComponentConfig):
    delay_s: float = Field(0.0, ge=0, description="Pretend latency.")


class NullTransport(Transport):
    """A line where nobody answers."""

    Config = NullTransportConfig

    async def open(self) -> None:
        CALLS.append(f"open:{self.url}")

    async def close(self) -> None:
        CALLS.append(f"close:{self.url}")

    async def write(self, data: bytes) -> None:
        pass

    async def read(self, size: int, timeout: float) -> bytes:
        return b""


class RecorderConfig(ComponentConfig):
    label: str = Field("x", description="Name written to CALLS.")
    fail_start: bool = Field(False, description="Raise in start().")


class Recorder:
    config: RecorderConfig

    async def start(self) -> None:
        CALLS.append(f"start:{type(self).__name__}:{self.config.label}")
        if self.config.fail_start:
            raise RuntimeError("refusing to start, as configured")

    async def stop(self) -> None:
        CALLS.append(f"stop:{type(self).__name__}:{self.config.label}")


class RecService(Recorder, Service):
    Config = RecorderConfig
    summary = "records its lifecycle"


class RecAction(Recorder, AlarmAction):
    Config = RecorderConfig

    async def handle(self, event: object) -> None:
        CALLS.append(f"event:{event}")


class RecHistory(Recorder, HistorySink):
    Config = RecorderConfig

    async def write(self, snapshot: object) -> None:
        pass


class RecAuth(Recorder, Authenticator):
    Config = RecorderConfig
    users: ClassVar[dict[str, str]] = {"alice": "wonderland"}

    async def authenticate(self, user: str, password: str, source: str):  # type: ignore[no-untyped-def]
        from gateway.core.commands import Actor

        return Actor(user, "operator") if self.users.get(user) == password else None


@hookimpl
def cellgate_register_transports(register):  # type: ignore[no-untyped-def]
    register("null", NullTransport)


@hookimpl
def cellgate_register_monitor_drivers(register):  # type: ignore[no-untyped-def]
    register("FAKE1", FakeDriver)


@hookimpl
def cellgate_register_services(register):  # type: ignore[no-untyped-def]
    register("recorder", RecService)


@hookimpl
def cellgate_register_alarm_actions(register):  # type: ignore[no-untyped-def]
    register("recorder", RecAction)


@hookimpl
def cellgate_register_history_sinks(register):  # type: ignore[no-untyped-def]
    register("recorder", RecHistory)


@hookimpl
def cellgate_register_authenticators(register):  # type: ignore[no-untyped-def]
    register("recorder", RecAuth)


class HelloCommand(CliCommand):
    name = "fake-hello"
    help = "say hello (test plugin)"

    def configure(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--who", default="world")

    def run(self, args):  # type: ignore[no-untyped-def]
        print(f"hello {args.who}")
        return 0


@hookimpl
def cellgate_register_cli_commands(register):  # type: ignore[no-untyped-def]
    register("fake-hello", HelloCommand)
