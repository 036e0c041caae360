"""Synthetic snapshots and a gateway context for driving northbound services without the engine.

Deterministic values (a function of string and position) so tests can compute what an SNMP
manager must read; also used by ``bench/snmp_get.py`` for a 512-unit site.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.core.clock import RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from gateway.core.model import AlarmView, Quality, Snapshot, StringMode, UnitView
from tests.synthetic import string_view, unit_view


def unit(string: int, position: int, t: float, quality: Quality = Quality.GOOD) -> UnitView:
    k = string * 1000 + position
    return unit_view(
        string,
        position,
        bus=f"bus{string + 1}",
        channel=1,
        voltage_v=13.5 + (k % 17) * 0.001,
        temperature_c=22.0 + (k % 7) * 0.1,
        ri_ohm=0.0040 + (k % 11) * 1e-5,
        soc=0.95 - (k % 5) * 0.01,
        soh=0.98 - (k % 3) * 0.01,
        equalize_duty=(k % 4) * 0.1,
        quality=quality,
        updated_at=t - 1.0,
    )


def snapshot(
    strings: int = 2,
    units_per_string: int = 24,
    version: int = 1,
    t: float = 1_700_000_000.0,
    mode: StringMode = StringMode.FLOAT,
    stale_units: frozenset[tuple[int, int]] = frozenset(),
    alarms: tuple[AlarmView, ...] = (),
) -> Snapshot:
    """``strings`` × ``units_per_string`` units; ``stale_units`` holds (string, position) pairs."""
    discharging = mode is StringMode.DISCHARGE
    views = tuple(
        string_view(
            s,
            (
                unit(s, p, t, Quality.STALE if (s, p) in stale_units else Quality.GOOD)
                for p in range(1, units_per_string + 1)
            ),
            name=f"String {chr(65 + s % 26)}{s // 26 or ''}",
            current_a=-42.5 if discharging else 0.8,
            ripple_a=0.3,
            spread_v=0.016,
            soc=0.25 if discharging else 0.93,
            runtime_s=1830.0 if discharging else None,
            mode=mode,
        )
        for s in range(strings)
    )
    return Snapshot(
        version=version,
        time=t,
        site_name="Test site",
        strings=views,
        ambient_c=23.4,
        humidity_pct=41.0,
        alarms=alarms,
    )


class SnapshotHolder:
    """A snapshot source the test can swap, as the engine does every cycle."""

    def __init__(self, snap: Snapshot) -> None:
        self.current = snap

    def __call__(self) -> Snapshot:
        return self.current


def context(holder: SnapshotHolder, tmp: Path, events: EventBus | None = None) -> GatewayContext:
    asyncio.get_running_loop()  # the command queue and event bus belong to the running loop
    return GatewayContext(
        clock=RealClock(),
        commands=CommandQueue(),
        events=events or EventBus(),
        config_dir=tmp,
        data_dir=tmp,
        snapshot_source=holder,
    )
