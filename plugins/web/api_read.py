"""Read endpoints: site, strings, units, alarms, lines, events, history, reports, config.

Everything live is answered from the latest snapshot in memory (never waiting on a bus);
events and history come from the history store when there is one, else from what this
service has seen since it started.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from gateway.core.events import Event
from gateway.core.model import Snapshot, StringView
from plugins.web.schemas import (
    AlarmOut,
    EventOut,
    LineOut,
    OverviewOut,
    SeriesOut,
    SiteOut,
    StringOut,
    UnitOut,
)
from plugins.web.security import Admin, Principal, Viewer, web_state
from plugins.web.serialize import alarm_dict, dumps, line_dict, site_dict, string_dict, unit_dict
from plugins.web.state import WebState
from plugins.web.trends import SOURCE_RE, STRING_SERIES, UNIT_SERIES

router = APIRouter(prefix="/api/v1", tags=["data"])

FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
FIELDS_PATTERN = r"^[a-z][a-z0-9_]{0,40}(,[a-z][a-z0-9_]{0,40}){0,7}$"
SECRET_KEY_RE = re.compile(r"(pass|secret|key|token|community|psk|credential)", re.IGNORECASE)
MAX_SPAN_S = 400 * 86400.0


def _json(data: Any) -> Response:
    return Response(dumps(data), media_type="application/json")


def _string(snapshot: Snapshot, index: int) -> StringView:
    if not 0 <= index < len(snapshot.strings):
        raise HTTPException(404, f"no string {index} (the site has {len(snapshot.strings)})")
    return snapshot.strings[index]


@router.get("/overview", response_model=OverviewOut, summary="Site, strings with every unit, alarms, lines")
async def overview(request: Request, _: Principal = Viewer) -> Response:
    web = web_state(request)
    cached = web.cache.get(web.ctx.snapshot())
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            cached.overview_gzip,
            media_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(cached.overview_json, media_type="application/json", headers={"Vary": "Accept-Encoding"})


@router.get("/site", response_model=SiteOut, summary="The site and its strings (without units)")
async def site(request: Request, _: Principal = Viewer) -> Response:
    return _json(site_dict(web_state(request).ctx.snapshot(), with_units=False))


@router.get("/strings", response_model=list[StringOut], summary="Every string's figures")
async def strings(request: Request, units: bool = False, _: Principal = Viewer) -> Response:
    snapshot = web_state(request).ctx.snapshot()
    return _json([string_dict(s, snapshot, with_units=units) for s in snapshot.strings])


@router.get("/strings/{index}", response_model=StringOut, summary="One string with its units")
async def one_string(index: int, request: Request, _: Principal = Viewer) -> Response:
    snapshot = web_state(request).ctx.snapshot()
    return _json(string_dict(_string(snapshot, index), snapshot, with_units=True))


@router.get("/strings/{index}/units", response_model=list[UnitOut], summary="The units of one string")
async def units(index: int, request: Request, _: Principal = Viewer) -> Response:
    return _json([unit_dict(u) for u in _string(web_state(request).ctx.snapshot(), index).units])


@router.get("/strings/{index}/units/{position}", response_model=UnitOut, summary="One unit (position 1..N)")
async def one_unit(index: int, position: int, request: Request, _: Principal = Viewer) -> Response:
    s = _string(web_state(request).ctx.snapshot(), index)
    for u in s.units:
        if u.position == position:
            return _json(unit_dict(u))
    raise HTTPException(404, f"string {index} has no unit at position {position}")


@router.get("/alarms", response_model=list[AlarmOut], summary="Active and unacknowledged alarms")
async def alarms(request: Request, _: Principal = Viewer) -> Response:
    return _json([alarm_dict(a) for a in web_state(request).ctx.snapshot().alarms])


@router.get("/lines", response_model=list[LineOut], summary="Bus health: each RS-485 line's counters")
async def lines(request: Request, _: Principal = Viewer) -> Response:
    return _json([line_dict(line) for line in web_state(request).ctx.snapshot().lines])


def event_dict(e: Event) -> dict[str, Any]:
    d = e.to_dict()
    return {k: d[k] for k in EventOut.model_fields}


async def _events(
    web: WebState, since_id: int, t_from: float | None, t_to: float | None, kind: str | None, limit: int
) -> list[Event]:
    """Events from the history store, completed by those this service saw that the store has
    not written yet (it writes in batches): a write shows up in the log at once."""
    recent = [
        e
        for e in web.recent_events
        if e.id > since_id
        and (t_from is None or e.time >= t_from)
        and (t_to is None or e.time <= t_to)
        and (kind is None or e.kind == kind)
    ]
    if web.ctx.history is None:
        return recent[:limit]
    stored = await web.ctx.history.events(since_id=since_id, t_from=t_from, t_to=t_to, kind=kind, limit=limit)
    if len(stored) >= limit:
        return stored
    last = stored[-1].id if stored else since_id
    return (stored + [e for e in recent if e.id > last])[:limit]


@router.get(
    "/events", response_model=list[EventOut], summary="Events, oldest first (alarms, commands, logins…)"
)
async def events(
    request: Request,
    _: Principal = Viewer,
    since_id: int = Query(0, ge=0, le=2**62, description="only events after this id"),
    t_from: float | None = Query(None, alias="from", ge=0, le=1e11, description="epoch seconds"),
    t_to: float | None = Query(None, alias="to", ge=0, le=1e11, description="epoch seconds"),
    kind: str | None = Query(None, pattern=r"^[a-z_]{1,32}$"),
    limit: int = Query(200, ge=1, le=5000),
) -> Response:
    found = await _events(web_state(request), since_id, t_from, t_to, kind, limit)
    return _json([event_dict(e) for e in found])


@router.get("/reports/discharges", response_model=list[EventOut], summary="Discharge reports (newest last)")
async def discharges(
    request: Request, _: Principal = Viewer, limit: int = Query(100, ge=1, le=1000)
) -> Response:
    found = await _events(web_state(request), 0, None, None, "discharge", 5000)
    return _json([event_dict(e) for e in found[-limit:]])


def _check_series_args(source: str, fields: str, t_from: float, t_to: float) -> list[str]:
    if not SOURCE_RE.match(source):
        raise HTTPException(400, "source must look like 'site', 'strings[0]' or 'strings[0].units[3]'")
    names = [f for f in fields.split(",") if f]
    if not names or len(names) > 8 or not all(FIELD_RE.match(f) for f in names):
        raise HTTPException(400, "fields: 1–8 comma-separated field names such as voltage_v")
    if not t_from < t_to or t_to - t_from > MAX_SPAN_S:
        raise HTTPException(400, "need from < to, at most 400 days apart")
    return names


async def _series(
    web: WebState, source: str, names: list[str], t_from: float, t_to: float, resolution: str
) -> dict[str, list[Any]]:
    if web.ctx.history is not None:
        try:
            return await web.ctx.history.series(source, names, t_from, t_to, resolution)
        except ValueError as e:  # the store names what it does not keep
            raise HTTPException(400, str(e)) from None
    known = (
        UNIT_SERIES
        if ".units[" in source
        else STRING_SERIES
        if source != "site"
        else ("ambient_c", "humidity_pct")
    )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise HTTPException(400, f"no in-memory trend of {unknown} (kept: {', '.join(known)})")
    return web.trends.series(source, names, t_from, t_to)


@router.get("/history", response_model=SeriesOut, summary="Time series of one source's fields")
async def history(
    request: Request,
    _: Principal = Viewer,
    source: str = Query(
        ...,
        max_length=40,
        pattern=SOURCE_RE.pattern,
        description="'site', 'strings[0]' or 'strings[0].units[3]'",
    ),
    fields: str = Query(
        "voltage_v",
        max_length=400,
        pattern=FIELDS_PATTERN,
        description="comma-separated, e.g. voltage_v,ri_ohm",
    ),
    t_from: float = Query(..., alias="from", ge=0, le=1e11, description="epoch seconds"),
    t_to: float = Query(..., alias="to", ge=0, le=1e11, description="epoch seconds"),
    resolution: str = Query("auto", pattern="^(raw|1m|1h|auto)$"),
) -> Response:
    web = web_state(request)
    names = _check_series_args(source, fields, t_from, t_to)
    series = await _series(web, source, names, t_from, t_to, resolution)
    return _json({"source": source, "fields": names, "resolution": resolution, "series": series})


@router.get(
    "/history/export",
    summary="The same series as a CSV download",
    responses={200: {"content": {"text/csv": {}}}},
)
async def history_export(
    request: Request,
    _: Principal = Viewer,
    source: str = Query(..., max_length=40, pattern=SOURCE_RE.pattern),
    fields: str = Query("voltage_v", max_length=400, pattern=FIELDS_PATTERN),
    t_from: float = Query(..., alias="from", ge=0, le=1e11),
    t_to: float = Query(..., alias="to", ge=0, le=1e11),
    resolution: str = Query("auto", pattern="^(raw|1m|1h|auto)$"),
) -> Response:
    web = web_state(request)
    names = _check_series_args(source, fields, t_from, t_to)
    series = await _series(web, source, names, t_from, t_to, resolution)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["t", *names])
    for i, t in enumerate(series.get("t", [])):
        writer.writerow([t, *(("" if series[n][i] is None else series[n][i]) for n in names)])
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", source) + ".csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def redact(value: Any) -> Any:
    """The config with every secret-looking value replaced."""
    if isinstance(value, dict):
        return {
            k: (
                "***"
                if SECRET_KEY_RE.search(str(k))
                and v not in (None, "", [], {})
                and not isinstance(v, dict | list)
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@router.get("/config", summary="The running configuration, secrets redacted (admin)")
async def config(request: Request, _: Principal = Admin) -> Response:
    cfg = web_state(request).ctx.config
    root = getattr(cfg, "root", cfg)  # the loaded file keeps the validated model as .root
    if root is None:
        data: Any = {}
    elif hasattr(root, "model_dump"):
        data = root.model_dump(mode="json")
    else:
        data = root
    return _json(redact(data))
