"""The EU 2023/1542 Annex VII-style battery data export of one string, computed from the history.

Annex VII (Part A) asks, for stationary batteries, for remaining capacity, capacity fade,
internal-resistance increase, self-discharge evolution, energy and capacity throughput,
deep-discharge and overcharge events, and time spent at extreme temperatures.
"""

# ruff: noqa: S608 - table and column names in SQL text come from schema constants, never from input

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.core.alarms.kinds import CHEMISTRIES, cells_per_unit
from plugins.history_sqlite.schema import KINDS, STRING_MODE, TIER_SECONDS, rollup_expr, table

FORMAT = "cellgate-annex-vii/1"


def _meta(conn: sqlite3.Connection) -> dict[str, Any]:
    return {
        k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta WHERE key != 'schema_version'")
    }


def _rollup_tier(conn: sqlite3.Connection, t_from: float) -> str:
    """1-minute rollups where they reach back far enough, hourly ones beyond."""
    lo = conn.execute("SELECT MIN(t) FROM r1m_string").fetchone()[0]
    return "1m" if lo is not None and lo <= t_from + 60 else "1h"


def _rows(
    conn: sqlite3.Connection, tier: str, kind: str, source: str, cols: list[str], t0: float, t1: float
) -> list[tuple[Any, ...]]:
    sql = (
        f"SELECT r.t, {', '.join(rollup_expr(c, 'r.') for c in cols)} FROM {table(tier, kind)} r "
        f"JOIN source s ON s.id = r.src WHERE s.name = ? AND r.t >= ? AND r.t < ? ORDER BY r.t"
    )
    return conn.execute(sql, (source, int(t0), int(t1))).fetchall()


def _episodes(times: list[int], step: int) -> list[tuple[int, int]]:
    """Runs of consecutive periods: [(start, end)]."""
    out: list[tuple[int, int]] = []
    for t in times:
        if out and t - out[-1][1] <= step:
            out[-1] = (out[-1][0], t + step)
        else:
            out.append((t, t + step))
    return out


def annex_vii(conn: sqlite3.Connection, string: int, t_from: float, t_to: float) -> dict[str, Any]:
    """The Annex VII-style data of ``strings[string]`` between two times."""
    meta = _meta(conn)
    strings = meta.get("strings") or []
    if string >= len(strings):
        raise ValueError(f"the history knows {len(strings)} string(s); there is no string {string}")
    info = strings[string]
    chem = CHEMISTRIES[info["chemistry"]]
    cells = cells_per_unit(chem, info["nominal_voltage_v"])
    rated = float(info["rated_capacity_ah"])
    tier = _rollup_tier(conn, t_from)
    step = TIER_SECONDS[tier]
    uf = {f.name: f for f in KINDS["unit"]}
    sf = {f.name: f for f in KINDS["string"]}

    units = []
    deep: list[int] = []
    over: list[int] = []
    hot: set[int] = set()
    cold: set[int] = set()
    low_c, high_c = chem.extreme_temp_c
    for k in range(int(info["count"])):
        rows = _rows(
            conn,
            tier,
            "unit",
            f"strings[{string}].units[{k}]",
            [
                "soh_mean",
                "ri_ohm_mean",
                "voltage_v_min",
                "voltage_v_max",
                "temperature_c_min",
                "temperature_c_max",
            ],
            t_from,
            t_to,
        )
        soh = [(t, r / uf["soh"].scale) for t, r, *_ in rows if r is not None]
        ri = [(t, r / uf["ri_ohm"].scale) for t, _, r, *_ in rows if r is not None]
        for t, _, _, vmin, vmax, tmin, tmax in rows:
            if vmin is not None and vmin / uf["voltage_v"].scale < chem.cell_deep_discharge_v * cells:
                deep.append(t)
            if vmax is not None and vmax / uf["voltage_v"].scale > chem.cell_overcharge_v * cells:
                over.append(t)
            if tmax is not None and tmax / uf["temperature_c"].scale > high_c:
                hot.add(t)
            if tmin is not None and tmin / uf["temperature_c"].scale < low_c:
                cold.add(t)
        units.append(
            {
                "position": k + 1,
                "soh_first": soh[0][1] if soh else None,
                "soh_latest": soh[-1][1] if soh else None,
                "remaining_capacity_ah": round(soh[-1][1] * rated, 2) if soh else None,
                "ri_first_ohm": ri[0][1] if ri else None,
                "ri_latest_ohm": ri[-1][1] if ri else None,
                "ri_increase": round(ri[-1][1] / ri[0][1] - 1, 4) if ri and ri[0][1] else None,
            }
        )

    srows = _rows(
        conn,
        tier,
        "string",
        f"strings[{string}]",
        ["current_a_mean", "voltage_v_mean", "soc_mean", "mode_max"],
        t_from,
        t_to,
    )
    charge_ah = discharge_ah = charge_wh = discharge_wh = 0.0
    for _, i, v, _, _ in srows:
        if i is None:
            continue
        amps = i / sf["current_a"].scale
        ah = amps * step / 3600
        wh = ah * (v / sf["voltage_v"].scale if v is not None else 0.0)
        if amps > 0:
            charge_ah, charge_wh = charge_ah + ah, charge_wh + wh
        else:
            discharge_ah, discharge_wh = discharge_ah - ah, discharge_wh - wh
    sohs = [u["soh_latest"] for u in units if u["soh_latest"] is not None]
    firsts = [u["soh_first"] for u in units if u["soh_first"] is not None]
    rises = [u["ri_increase"] for u in units if u["ri_increase"] is not None]
    return {
        "format": FORMAT,
        "basis": "Regulation (EU) 2023/1542, Annex VII Part A: parameters for determining the state of "
        "health of stationary battery energy storage systems",
        "site": meta.get("site", ""),
        "string": {"index": string, **info, "cells_per_unit": cells},
        "period": {"from": t_from, "to": t_to, "resolution": tier},
        "remaining_capacity_ah": round(min(sohs) * rated, 2) if sohs else None,
        "capacity_fade": {
            "soh_first": min(firsts) if firsts else None,
            "soh_latest": min(sohs) if sohs else None,
            "fade": round(min(firsts) - min(sohs), 4) if sohs and firsts else None,
        },
        "ri_increase": {
            "max": max(rises) if rises else None,
            "mean": round(sum(rises) / len(rises), 4) if rises else None,
        },
        "self_discharge": _self_discharge(srows, step, sf["soc"].scale),
        "throughput": {
            "charge_ah": round(charge_ah, 3),
            "discharge_ah": round(discharge_ah, 3),
            "charge_kwh": round(charge_wh / 1000, 4),
            "discharge_kwh": round(discharge_wh / 1000, 4),
            "equivalent_full_cycles": round(discharge_ah / rated, 3),
        },
        "deep_discharge_events": [{"from": a, "to": b} for a, b in _episodes(sorted(set(deep)), step)],
        "overcharge_events": [{"from": a, "to": b} for a, b in _episodes(sorted(set(over)), step)],
        "time_at_extreme_temperatures": {
            "below_c": low_c,
            "hours_below": round(len(cold) * step / 3600, 3),
            "above_c": high_c,
            "hours_above": round(len(hot) * step / 3600, 3),
        },
        "units": units,
    }


def _self_discharge(rows: list[tuple[Any, ...]], step: int, soc_scale: float) -> dict[str, Any]:
    """SOC lost per day over rest periods (no charger, no load) of at least an hour."""
    rest = STRING_MODE["rest"]
    runs: list[list[tuple[int, float]]] = []
    for t, _, _, soc, mode in rows:
        if mode == rest and soc is not None:
            if runs and t - runs[-1][-1][0] <= step:
                runs[-1].append((t, soc / soc_scale))
            else:
                runs.append([(t, soc / soc_scale)])
    periods = []
    for run in runs:
        days = (run[-1][0] - run[0][0]) / 86400
        if days >= 1 / 24:
            periods.append(
                {
                    "from": run[0][0],
                    "to": run[-1][0] + step,
                    "soc_loss_per_day": round((run[0][1] - run[-1][1]) / days, 5),
                }
            )
    note = None if periods else "no rest period of an hour or more: a string on float charge shows none"
    return {"periods": periods, "note": note}
