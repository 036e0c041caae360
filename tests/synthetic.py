"""Shared builders for synthetic sites: unit and string views, and the config that describes them.

Each test area keeps its own value pattern (a function of string and position) and passes it
here as field values; these builders only know how the views are assembled and what a healthy,
float-charged 12 V VRLA block reads when a test does not say otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from gateway.core.model import Quality, StringMode, StringView, UnitView

#: a healthy C20-monitored VRLA block floating at 2.27 V/cell, at its baseline resistance
HEALTHY_UNIT: dict[str, Any] = {
    "model": "C20",
    "bus": "bus1",
    "channel": 0,
    "voltage_v": 13.62,
    "temperature_c": 25.0,
    "ri_ohm": 0.004,
    "ri_baseline_ohm": 0.004,
    "soc": 1.0,
    "soh": 1.0,
    "psoc": False,
    "equalize_duty": 0.0,
    "status": "ok",
    "quality": Quality.GOOD,
    "updated_at": 0.0,
}

#: a full VRLA string floating with a trickle of charge current
HEALTHY_STRING: dict[str, Any] = {
    "chemistry": "vrla",
    "current_a": 0.1,
    "ripple_a": 0.5,
    "spread_v": 0.0,
    "soc": 1.0,
    "runtime_s": None,
    "mode": StringMode.FLOAT,
}


def unit_view(string: int, position: int, **fields: Any) -> UnitView:
    """A healthy unit at ``position`` (address = position unless given); ``fields`` override any value."""
    return UnitView(string=string, position=position, **{"address": position, **HEALTHY_UNIT, **fields})


def string_view(index: int, units: Iterable[UnitView], **fields: Any) -> StringView:
    """A healthy string named "String A", "String B", ... whose voltage is the sum of its measured
    units' (unless ``fields`` says otherwise); ``fields`` override any value."""
    units = tuple(units)
    measured = sum(u.voltage_v for u in units if u.voltage_v is not None)
    defaults = {"name": f"String {chr(65 + index)}", "voltage_v": measured, **HEALTHY_STRING}
    return StringView(index=index, units=units, **{**defaults, **fields})


def site_config(
    count: int = 24,
    strings: int = 1,
    *,
    chemistry: str = "vrla",
    model: str = "C20",
    nominal_v: float = 12.0,
    bus: str | None = None,
) -> Any:
    """A stand-in for the root config's site and strings: ``strings`` strings of ``count`` units,
    all on ``bus`` or, when it is None, one bus per string (bus1, bus2, ...)."""
    return SimpleNamespace(
        site=SimpleNamespace(name="Test site"),
        strings=[
            SimpleNamespace(
                name=f"String {chr(65 + i)}",
                chemistry=chemistry,
                nominal_voltage_v=nominal_v,
                rated_capacity_ah=100.0,
                units=SimpleNamespace(model=model, count=count, bus=bus or f"bus{i + 1}", first_address=1),
            )
            for i in range(strings)
        ],
    )
