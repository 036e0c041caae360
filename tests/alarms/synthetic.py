"""Synthetic site views for the alarm tests: a string of healthy VRLA blocks to spoil one value at a time."""

from __future__ import annotations

from typing import Any

from gateway.core.alarms import AlarmManager, AlarmSettings
from gateway.core.clock import ManualClock
from gateway.core.events import Event, EventBus
from gateway.core.model import LineStats, StringMode, StringView
from tests.synthetic import site_config as shared_site_config
from tests.synthetic import string_view, unit_view


def site_config(
    count: int = 24, chemistry: str = "vrla", model: str = "C20", nominal_v: float = 12.0, strings: int = 1
) -> Any:
    return shared_site_config(count, strings, chemistry=chemistry, model=model, nominal_v=nominal_v)


def string(
    index: int = 0,
    count: int = 24,
    mode: StringMode = StringMode.FLOAT,
    bus: str = "bus1",
    overrides: dict[int, dict[str, Any]] | None = None,
    **kw: Any,
) -> StringView:
    overrides = overrides or {}
    units = (unit_view(index, p, bus=bus, **overrides.get(p, {})) for p in range(1, count + 1))
    return string_view(index, units, mode=mode, **kw)


def line(name: str = "bus1", state: str = "up", lost: int = 0) -> LineStats:
    return LineStats(name=name, url=f"sim://{name}", state=state, units_comm_lost=lost)


class Rig:
    """An alarm manager on a manual clock, recording every event it publishes."""

    def __init__(self, settings: dict[str, Any] | None = None, config: Any = None) -> None:
        self.clock = ManualClock(1_000_000.0)
        self.bus = EventBus()
        self.events: list[Event] = []
        publish = self.bus.publish

        def record(e: Event) -> Event:
            e = publish(e)
            self.events.append(e)
            return e

        self.bus.publish = record  # type: ignore[method-assign]
        self.manager = AlarmManager(
            AlarmSettings.model_validate(settings or {}), config or site_config(), self.bus, self.clock
        )

    def step(
        self,
        seconds: float,
        strings: tuple[StringView, ...] | StringView,
        *,
        findings: Any = (),
        lines: tuple[LineStats, ...] = (),
        ambient_c: float | None = 25.0,
        humidity_pct: float | None = 40.0,
        every: float = 1.0,
    ) -> None:
        """Evaluate the same views every ``every`` seconds for ``seconds``."""
        if isinstance(strings, StringView):
            strings = (strings,)
        end = self.clock.now() + seconds
        while True:
            self.manager.evaluate(
                self.clock.now(), strings, findings, lines or (line(),), ambient_c, humidity_pct
            )
            if self.clock.now() + every > end + 1e-9:
                break
            self.clock.advance(every)

    def raised(self) -> list[tuple[str, str, str]]:
        return [(e.code, e.source, e.level) for e in self.events if e.state == "raised"]

    def transitions(self) -> list[tuple[str | None, str, str]]:
        return [(e.state, e.code, e.source) for e in self.events if e.kind == "alarm"]

    def active_codes(self) -> set[tuple[str, str]]:
        return {(a.code, a.source) for a in self.manager.views() if a.cleared_at is None}
