"""Building the frozen views of a snapshot from the hub's readings and the engine's estimates.

A comm-lost or never-measured unit shows no values (``None``) and says why in ``quality``
and ``status``: northbound never serves the last good value as if it were current.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gateway.core.model import Quality, StringMode, StringView, UnitView

if TYPE_CHECKING:
    from gateway.core.hub import Hub

_NO_VALUES = (Quality.COMM_LOST, Quality.NO_DATA)


def _f(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def site_snapshot(hub: Hub, now: float) -> tuple[StringView, ...]:
    """Every string's view, units with status "ok" unless their data is missing; the alarm
    statuses are laid on afterwards by :func:`with_alarm_statuses`, once alarms are evaluated."""
    out = []
    for i, s in enumerate(hub.root.strings):
        est = hub.estimates[i]
        units = []
        for k, b in enumerate(hub.bindings[i]):
            q = hub.readings.quality(b, now, hub.stale_after_s.get(b.bus, 3.0))
            r = hub.readings.channels.get((b.bus, b.address, b.channel))
            shown = r is not None and q not in _NO_VALUES
            fuse = shown and r is not None and "fuse_open" in r.flags
            if q is Quality.COMM_LOST:
                status = "comm_lost"
            elif q is Quality.NO_DATA:
                status = "no_data"
            else:
                status = "ok"
            units.append(
                UnitView(
                    string=i,
                    position=b.position,
                    model=b.model,
                    bus=b.bus,
                    address=b.address,
                    channel=b.channel,
                    voltage_v=None if not shown or fuse or r is None else r.voltage_v,
                    temperature_c=r.temperature_c if shown and r is not None else None,
                    ri_ohm=r.ri_ohm if shown and r is not None else None,
                    ri_baseline_ohm=_f(est.ri_baseline_ohm[k]) if est else None,
                    soc=_f(est.soc[k]) if est else None,
                    soh=_f(est.soh[k]) if est else None,
                    psoc=bool(est.psoc[k]) if est else False,
                    equalize_duty=float(est.duty[k]) if est else 0.0,
                    status=status,
                    quality=q,
                    updated_at=r.time if r is not None else None,
                    flags=r.flags if r is not None else frozenset(),
                )
            )
        volts = [u.voltage_v for u in units if u.voltage_v is not None]
        cs = s.current_sensor
        current = hub.readings.sensor_value(cs.bus, cs.address, "current_a") if cs else math.nan
        ripple = hub.readings.sensor_value(cs.bus, cs.address, "ripple_a") if cs else math.nan
        out.append(
            StringView(
                index=i,
                name=s.name,
                chemistry=s.chemistry.value,
                voltage_v=round(sum(volts), 4) if volts and len(volts) == len(units) else None,
                current_a=_f(current),
                ripple_a=_f(ripple),
                spread_v=round(max(volts) - min(volts), 4) if len(volts) > 1 else None,
                soc=_f(est.string_soc) if est else None,
                runtime_s=_f(est.runtime_s) if est else None,
                mode=StringMode(est.mode.value) if est else StringMode.UNKNOWN,
                units=tuple(units),
                current_over_range=bool(cs) and "over_range" in hub.readings.sensor_flags(cs.bus, cs.address),
            )
        )
    return tuple(out)


def with_alarm_statuses(
    strings: tuple[StringView, ...], unit_status: Callable[[int, int], str]
) -> tuple[StringView, ...]:
    """The same views with each answering unit's alarm status; only changed units are copied."""
    out = []
    for s in strings:
        units = list(s.units)
        for k, u in enumerate(units):
            if u.status == "ok":  # answering: its alarms decide (comm_lost/no_data stay as they are)
                status = unit_status(s.index, u.position)
                if status != "ok":
                    units[k] = replace(u, status=status)
        changed = any(a is not b for a, b in zip(units, s.units, strict=True))
        out.append(replace(s, units=tuple(units)) if changed else s)
    return tuple(out)
