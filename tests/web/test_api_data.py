"""What the read endpoints say about the site: fields, units in names, history, exports, config."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io

from plugins.web.trends import TrendBuffer
from tests.web.conftest import Site
from tests.web.fakes import T0, make_snapshot

UNIT_FIELDS = {
    "position",
    "model",
    "bus",
    "address",
    "channel",
    "voltage_v",
    "temperature_c",
    "ri_ohm",
    "ri_baseline_ohm",
    "soc",
    "soh",
    "psoc",
    "equalize_duty",
    "status",
    "quality",
    "updated_at",
}
STRING_FIELDS = {"voltage_v", "current_a", "spread_v", "soc", "runtime_s", "mode"}


async def test_overview_has_every_unit_and_string_figure(site: Site) -> None:
    r = await site.client.get("/api/v1/overview", headers=site.bearer("viewer"))
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    data = r.json()
    assert data["site"]["name"] == "Test data centre"
    strings = data["site"]["strings"]
    assert [s["name"] for s in strings] == ["String A", "String B"]
    assert strings[0].keys() >= STRING_FIELDS
    units = strings[0]["units"]
    assert [u["position"] for u in units] == list(range(1, 25))
    assert units[0].keys() >= UNIT_FIELDS
    seventh = units[6]
    assert (
        seventh["voltage_v"],
        seventh["status"],
        seventh["bus"],
        seventh["address"],
        seventh["channel"],
    ) == (13.95, "alarm", "bus1", 2, 3)
    assert strings[1]["units"][-1]["quality"] == "comm_lost"
    assert strings[0]["status_counts"]["alarm"] == 1
    # the equalization target the bar chart draws around: the mean unit voltage here
    volts = [u["voltage_v"] for u in units]
    assert abs(strings[0]["target_voltage_v"] - sum(volts) / len(volts)) < 1e-3
    assert [a["code"] for a in data["alarms"]] == ["unit_voltage_high", "comm_lost"]
    assert data["lines"][0]["name"] == "bus1"


async def test_bus_health_lists_every_device_of_every_line(site: Site) -> None:
    r = await site.client.get("/api/v1/lines", headers=site.bearer("viewer"))
    lines = r.json()
    assert [len(line["devices"]) for line in lines] == [24, 24]
    dead = [(line["name"], d["address"]) for line in lines for d in line["devices"] if d["state"] != "ok"]
    assert dead == [("bus2", 3)]
    d = lines[0]["devices"][0]
    assert (d["address"], d["model"], d["serial"], d["firmware"], d["latency_ms"]) == (
        1,
        "C20",
        24000001,
        "1.4",
        9.5,
    )


async def test_single_string_and_unit_and_not_found(site: Site) -> None:
    h = site.bearer("viewer")
    r = await site.client.get("/api/v1/strings/1/units/24", headers=h)
    assert (r.json()["string"], r.json()["position"]) == (1, 24)
    assert (await site.client.get("/api/v1/strings/2", headers=h)).status_code == 404
    assert (await site.client.get("/api/v1/strings/0/units/25", headers=h)).status_code == 404
    assert (await site.client.get("/api/v1/strings/-1", headers=h)).status_code == 404
    r = await site.client.get("/api/v1/strings", headers=h)
    assert "units" not in r.json()[0] or r.json()[0]["units"] is None
    r = await site.client.get("/api/v1/strings?units=true", headers=h)
    assert len(r.json()[0]["units"]) == 24


async def test_values_that_are_not_numbers_become_null_not_an_error(site: Site) -> None:
    snap = site.engine.snapshot
    bad = dataclasses.replace(snap.strings[0].units[0], voltage_v=float("nan"), ri_ohm=float("inf"))
    string0 = dataclasses.replace(snap.strings[0], units=(bad, *snap.strings[0].units[1:]))
    site.engine.publish(
        dataclasses.replace(snap, version=snap.version + 1, strings=(string0, *snap.strings[1:]))
    )
    r = await site.client.get("/api/v1/overview", headers=site.bearer("viewer"))
    assert r.status_code == 200
    assert r.json()["site"]["strings"][0]["units"][0]["voltage_v"] is None


async def test_history_from_memory_and_csv_export(site: Site) -> None:
    # two engine cycles, sampled into the in-memory trend buffer (there is no history store here)
    trends = site.web.trends
    for i in range(3):
        trends.record(make_snapshot(version=10 + i, t=T0 + i * trends.interval_s))
    h = site.bearer("viewer")
    q = f"source=strings[0].units[6]&fields=voltage_v,temperature_c&from={T0 - 1}&to={T0 + 1000}"
    r = await site.client.get(f"/api/v1/history?{q}", headers=h)
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    assert series["t"] == [T0, T0 + trends.interval_s, T0 + 2 * trends.interval_s]
    assert series["voltage_v"] == [13.95] * 3
    r = await site.client.get(f"/api/v1/history/export?{q}", headers=h)
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="strings_0_.units_6_.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["t", "voltage_v", "temperature_c"]
    assert float(rows[1][1]) == 13.95
    for bad in (
        "source=strings[0];drop&fields=voltage_v",
        "source=site&fields=Voltage V",
        f"source=site&fields=ambient_c&from={T0}&to={T0 - 5}",
    ):
        r = await site.client.get(
            f"/api/v1/history?{bad}&from={T0}&to={T0 + 5}" if "from" not in bad else f"/api/v1/history?{bad}",
            headers=h,
        )
        assert r.status_code in (400, 422), bad


def test_trend_buffer_wraps_and_keeps_the_newest() -> None:
    buf = TrendBuffer(points=4, interval_s=1.0)
    for i in range(6):
        assert buf.record(make_snapshot(strings=1, units=2, version=i + 1, t=T0 + i))
    assert not buf.record(make_snapshot(strings=1, units=2, version=9, t=T0 + 5.5))  # too soon
    out = buf.series("strings[0]", ["voltage_v"], 0, 2e9)
    assert out["t"] == [T0 + 2, T0 + 3, T0 + 4, T0 + 5]


async def test_config_is_admin_only_with_secrets_redacted(site: Site) -> None:
    r = await site.client.get("/api/v1/config", headers=site.bearer("admin"))
    body = r.json()
    assert body["services"][0]["type"] == "snmp"
    assert body["services"][0]["community"] == "***"
    assert "s3cret" not in r.text


async def test_events_filters_and_discharge_reports(site: Site) -> None:
    from gateway.core.events import Event

    for i in range(3):
        site.web.ctx.events.publish(
            Event(
                time=T0 + i,
                kind="discharge",
                code="discharge_report",
                message=f"discharge {i}",
                data={"duration_s": 600.0 + i},
            )
        )
    site.web.ctx.events.publish(Event(time=T0 + 9, kind="alarm", code="unit_voltage_low", message="low"))
    import asyncio

    await asyncio.sleep(0.05)
    h = site.bearer("viewer")
    reports = (await site.client.get("/api/v1/reports/discharges?limit=2", headers=h)).json()
    assert [r["message"] for r in reports] == ["discharge 1", "discharge 2"]
    alarms = (await site.client.get("/api/v1/events?kind=alarm", headers=h)).json()
    assert [e["code"] for e in alarms] == ["unit_voltage_low"]
    first_id = reports[0]["id"]
    later = (await site.client.get(f"/api/v1/events?since_id={first_id}", headers=h)).json()
    assert all(e["id"] > first_id for e in later)
    assert (await site.client.get("/api/v1/events?kind=DROP%20TABLE", headers=h)).status_code == 422


async def test_overview_is_gzipped_for_clients_that_accept_it(site: Site) -> None:
    plain = await site.client.get(
        "/api/v1/overview", headers={**site.bearer("viewer"), "Accept-Encoding": "identity"}
    )
    packed = await site.client.get(
        "/api/v1/overview", headers={**site.bearer("viewer"), "Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json()  # httpx undoes the gzip: same document
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


class _History:
    """A history store that has written events up to id 2 so far, and knows only voltage_v."""

    def __init__(self, stored: list) -> None:
        self.stored = stored

    async def events(self, *, since_id=0, t_from=None, t_to=None, kind=None, limit=1000):
        return [e for e in self.stored if e.id > since_id][:limit]

    async def series(self, source, fields, t_from, t_to, resolution="auto"):
        if fields != ["voltage_v"]:
            raise ValueError(f"unknown field {fields[0]!r} for unit history")
        return {"t": [t_from], "voltage_v": [13.5]}


async def test_history_store_answers_and_recent_events_fill_its_gap(site: Site) -> None:
    from gateway.core.events import Event

    published = [
        site.web.ctx.events.publish(Event(time=T0 + i, kind="alarm", code=f"c{i}", message=str(i)))
        for i in range(4)
    ]
    await asyncio.sleep(0.05)
    site.web.ctx.history = _History(published[:2])  # the store lags two events behind
    h = site.bearer("viewer")
    events = (await site.client.get("/api/v1/events?kind=alarm", headers=h)).json()
    assert [e["code"] for e in events] == ["c0", "c1", "c2", "c3"]
    q = f"source=strings[0].units[0]&from={T0}&to={T0 + 60}"
    r = await site.client.get(f"/api/v1/history?{q}&fields=voltage_v", headers=h)
    assert r.json()["series"]["voltage_v"] == [13.5]
    r = await site.client.get(f"/api/v1/history?{q}&fields=ri_ohm", headers=h)
    assert r.status_code == 400
    assert "unknown field" in r.json()["detail"]
