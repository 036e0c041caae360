"""Synthetic snapshots for the Modbus tests: 2 strings × 24 VRLA blocks and a 512-unit string.

Values differ per unit (so a wrong address shows up as a wrong value) and a few units are
comm-lost, stale or out of range, so every status bit and the "no data" value get exercised.
"""

from __future__ import annotations

from gateway.core.model import AlarmView, LineStats, Quality, Snapshot, StringMode, StringView, UnitView
from tests.synthetic import string_view, unit_view

LAYOUT = (24, 24, 512)
LOST = {(0, 5), (2, 100)}  # (string, index): comm lost
STALE = {(1, 3)}
NEVER = {(2, 511)}  # never measured


def unit(s: int, i: int) -> UnitView:
    key = (s, i)
    quality = Quality.GOOD
    status = "ok"
    if key in LOST:
        quality, status = Quality.COMM_LOST, "comm_lost"
    elif key in STALE:
        quality = Quality.STALE
    elif key in NEVER:
        quality = Quality.NO_DATA
    never = key in NEVER
    return unit_view(
        s,
        i + 1,
        bus=f"bus{s}",
        address=1 + i % 200,
        voltage_v=None if never else round(13.2 + 0.001 * i + 0.1 * s, 3),
        temperature_c=None if never else round(21.0 + 0.1 * (i % 50) - 5 * (s == 1 and i == 7), 1),
        ri_ohm=None if never else round(0.003 + 0.00001 * (i % 300), 6),
        ri_baseline_ohm=0.003,
        soc=None if never else round(0.5 + 0.001 * (i % 400), 3),
        soh=None if never else round(0.8 + 0.0005 * (i % 300), 4),
        psoc=(i % 7 == 0),
        equalize_duty=round(0.01 * (i % 30), 2),
        status="warning" if (s, i) == (0, 2) else ("alarm" if (s, i) == (1, 9) else status),
        quality=quality,
        updated_at=1000.0,
    )


def string(s: int, count: int) -> StringView:
    units = tuple(unit(s, i) for i in range(count))
    return string_view(
        s,
        units,
        name=f"String {s}",
        voltage_v=round(sum(u.voltage_v or 0 for u in units), 2),
        current_a=[-12.5, 3.2, 0.0][s % 3],
        ripple_a=[1.5, 0.7, 0.2][s % 3],
        spread_v=0.125,
        soc=[0.91, 0.75, 0.5][s % 3],
        runtime_s=[5400.0, None, None][s % 3],
        mode=[StringMode.DISCHARGE, StringMode.FLOAT, StringMode.CHARGE][s % 3],
    )


def snapshot(version: int = 1, time: float = 1000.0, layout: tuple[int, ...] = LAYOUT) -> Snapshot:
    alarms = (
        AlarmView(
            id=7,
            code="unit_voltage_high",
            level="alarm",
            source="strings[1].units[9]",
            message="high",
            raised_at=990.0,
        ),
        AlarmView(
            id=9,
            code="unit_temperature_high",
            level="warning",
            source="strings[0].units[2]",
            message="warm",
            raised_at=995.0,
            acked_by="op",
            acked_at=996.0,
        ),
    )
    return Snapshot(
        version=version,
        time=time,
        site_name="Test site",
        strings=tuple(string(s, n) for s, n in enumerate(layout)),
        ambient_c=23.4,
        humidity_pct=41.5,
        alarms=alarms,
        lines=(LineStats(name="bus0", url="sim://a", state="up"),),
        extra={"thresholds": {"unit_voltage_high.alarm": 14.4}},
    )
