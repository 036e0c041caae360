"""Synthetic site views for the alarm tests: a string of healthy VRLA blocks to spoil one value at a time."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from gateway.core.alarms import AlarmManager, AlarmSettings
from gateway.core.clock import ManualClock
from gateway.core.events import Event, EventBus
from gateway.core.model import LineStats, Quality, StringMode, StringView, UnitView

FLOAT_V = 13.62  # 2.27 V/cell on a 12 V block


def site_config(
    count: int = 24, chemistry: str = "vrla", model: str = "C20", nominal_v: float = 12.0, strings: int = 1
) -> Any:
    return SimpleNamespace(
        strings=[
            SimpleNamespace(
                name=f"String {chr(65 + i)}",
                chemistry=chemistry,
                nominal_voltage_v=nominal_v,
                rated_capacity_ah=100.0,
                units=SimpleNamespace(model=model, count=count, bus=f"bus{i + 1}", first_address=1),
            )
            for i in range(strings)
        ]
    )


def unit(string: int, position: int, bus: str = "bus1", **kw: Any) -> UnitView:
    base = UnitView(
        string=string,
        position=position,
        model="C20",
        bus=bus,
        address=position,
        channel=0,
        voltage_v=FLOAT_V,
        temperature_c=25.0,
        ri_ohm=0.004,
        ri_baseline_ohm=0.004,
        soc=1.0,
        soh=1.0,
        psoc=False,
        equalize_duty=0.0,
        status="ok",
        quality=Quality.GOOD,
        updated_at=0.0,
    )
    return replace(base, **kw)


def string(
    index: int = 0,
    count: int = 24,
    mode: StringMode = StringMode.FLOAT,
    bus: str = "bus1",
    overrides: dict[int, dict[str, Any]] | None = None,
    **kw: Any,
) -> StringView:
    overrides = overrides or {}
    units = tuple(unit(index, p, bus, **overrides.get(p, {})) for p in range(1, count + 1))
    volts = [u.voltage_v for u in units if u.voltage_v is not None]
    base = StringView(
        index=index,
        name=f"String {chr(65 + index)}",
        chemistry="vrla",
        voltage_v=sum(volts),
        current_a=0.1,
        ripple_a=0.5,
        spread_v=0.0,
        soc=1.0,
        runtime_s=None,
        mode=mode,
        units=units,
    )
    return replace(base, **kw)


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
