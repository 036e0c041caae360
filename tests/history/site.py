"""Synthetic snapshots for the history tests: a string whose values follow simple functions of time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gateway.core.clock import ManualClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from gateway.core.model import Snapshot, StringMode
from tests.synthetic import site_config, string_view, unit_view

T0 = 1_750_000_000.0  # a whole hour, so minutes and hours line up with the test's arithmetic
T0 = T0 - T0 % 3600


def config(count: int = 24, strings: int = 1) -> Any:
    return site_config(count, strings, bus="bus1")


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
    views = tuple(
        string_view(
            i,
            (
                unit_view(
                    i,
                    p,
                    voltage_v=voltage(t, p),
                    temperature_c=25.0 + p / 10,
                    ri_ohm=0.004 + p * 1e-5,
                    soh=0.95,
                    equalize_duty=0.1,
                    updated_at=t,
                )
                for p in range(1, count + 1)
            ),
            current_a=current_a,
            spread_v=0.2,
            mode=mode,
        )
        for i in range(strings)
    )
    return Snapshot(
        version=version,
        time=t,
        site_name="Test site",
        strings=views,
        ambient_c=24.0,
        humidity_pct=40.0,
    )
