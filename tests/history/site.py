"""Synthetic snapshots for the history tests: a string whose values follow simple functions of time."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from gateway.core.clock import ManualClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from gateway.core.model import Quality, Snapshot, StringMode, StringView, UnitView

T0 = 1_750_000_000.0  # a whole hour, so minutes and hours line up with the test's arithmetic
T0 = T0 - T0 % 3600


def config(count: int = 24, strings: int = 1) -> Any:
    return SimpleNamespace(
        site=SimpleNamespace(name="Test site"),
        strings=[
            SimpleNamespace(
                name=f"String {chr(65 + i)}",
                chemistry="vrla",
                nominal_voltage_v=12.0,
                rated_capacity_ah=100.0,
                units=SimpleNamespace(model="C20", count=count, bus="bus1", first_address=1),
            )
            for i in range(strings)
        ],
    )


def context(tmp_path: Path, count: int = 24, strings: int = 1) -> GatewayContext:
    return GatewayContext(
        clock=ManualClock(T0),
        commands=CommandQueue(),
        events=EventBus(),
        config_dir=tmp_path,
        data_dir=tmp_path / "var",
        config=config(count, strings),
    )


def voltage(t: float, position: int) -> float:
    """A unit voltage that moves enough to pass the deadband: a slow sine per unit."""
    return 13.5 + 0.1 * math.sin((t - T0) / 600 + position)


def snapshot(
    t: float,
    *,
    count: int = 24,
    strings: int = 1,
    mode: StringMode = StringMode.FLOAT,
    current_a: float = 0.2,
    version: int = 0,
) -> Snapshot:
    views = []
    for i in range(strings):
        units = tuple(
            UnitView(
                string=i,
                position=p,
                model="C20",
                bus="bus1",
                address=p,
                channel=0,
                voltage_v=voltage(t, p),
                temperature_c=25.0 + p / 10,
                ri_ohm=0.004 + p * 1e-5,
                ri_baseline_ohm=0.004,
                soc=1.0,
                soh=0.95,
                psoc=False,
                equalize_duty=0.1,
                status="ok",
                quality=Quality.GOOD,
                updated_at=t,
            )
            for p in range(1, count + 1)
        )
        views.append(
            StringView(
                index=i,
                name=f"String {chr(65 + i)}",
                chemistry="vrla",
                voltage_v=sum(u.voltage_v or 0 for u in units),
                current_a=current_a,
                ripple_a=0.5,
                spread_v=0.2,
                soc=1.0,
                runtime_s=None,
                mode=mode,
                units=units,
            )
        )
    return Snapshot(
        version=version,
        time=t,
        site_name="Test site",
        strings=tuple(views),
        ambient_c=24.0,
        humidity_pct=40.0,
    )
