"""``cellgate events`` and ``cellgate history export`` (CSV, JSON, Annex VII) on a recorded day."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.core.commands import Actor
from gateway.core.events import Event
from gateway.core.model import Snapshot, StringMode
from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig
from tests.history.site import T0, context, snapshot

UNITS = 4
# the recorded story, in seconds from T0
FLOAT_END, DISCHARGE_END, CHARGE_END, REST_END = (
    3600,
    3600 + 1200,
    3600 + 1200 + 3600,
    3600 + 1200 + 3600 + 7200,
)


def _moment(k: int) -> Snapshot:
    t = T0 + k
    if k < FLOAT_END:
        snap = snapshot(t, count=UNITS, current_a=0.1)
    elif k < DISCHARGE_END:
        snap = snapshot(t, count=UNITS, mode=StringMode.DISCHARGE, current_a=-40.0)
    elif k < CHARGE_END:
        snap = snapshot(t, count=UNITS, mode=StringMode.CHARGE, current_a=10.0)
    else:
        snap = snapshot(t, count=UNITS, mode=StringMode.REST, current_a=0.0)
    (s,) = snap.strings
    units = []
    for u in s.units:
        v = u.voltage_v
        if FLOAT_END <= k < DISCHARGE_END:
            v = 9.5 if u.position == 2 and k >= DISCHARGE_END - 180 else 11.0  # unit 2 deep-discharged
        temp = 42.0 if u.position == 3 and CHARGE_END - 1800 <= k < CHARGE_END else 25.0
        aging = k / REST_END
        units.append(
            replace(
                u, voltage_v=v, temperature_c=temp, soh=0.95 - 0.01 * aging, ri_ohm=0.004 * (1 + 0.1 * aging)
            )
        )
    soc = 1.0 - 0.001 * (k - CHARGE_END) / 7200 if k >= CHARGE_END else 1.0
    s = replace(s, units=tuple(units), soc=soc, voltage_v=sum(u.voltage_v for u in units))
    return replace(snap, strings=(s,))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recorded")

    async def record() -> None:
        ctx = context(folder, count=UNITS)
        sink = SqliteHistory(SqliteHistoryConfig(), ctx)
        await sink.start()
        try:
            ctx.events.publish(
                Event(
                    T0 + FLOAT_END + 2,
                    "alarm",
                    "string_discharging",
                    "discharging",
                    "warning",
                    "strings[0]",
                    "raised",
                    data={"alarm_id": 1},
                )
            )
            ctx.events.publish(
                Event(
                    T0 + FLOAT_END + 60,
                    "command",
                    "ack_alarm",
                    "alarm 1 acknowledged",
                    actor=Actor("olga", "operator", "10.0.0.5", "web"),
                    data={"alarm_id": 1},
                )
            )
            for k in range(REST_END):
                await sink.write(_moment(k))
                if k % 200 == 0:
                    await sink.flush()
            await sink.flush()
        finally:
            await sink.stop()

    asyncio.run(record())
    return folder / "var" / "history.sqlite"


def _cellgate(cellgate_bin: str, *args: str) -> str:
    done = subprocess.run([cellgate_bin, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_events_json_lists_alarms_and_commands_with_who(cellgate_bin: str, recorded: Path) -> None:
    events = json.loads(_cellgate(cellgate_bin, "events", "--json", "--db", str(recorded)))
    assert [(e["kind"], e["code"], e["state"]) for e in events] == [
        ("alarm", "string_discharging", "raised"),
        ("command", "ack_alarm", None),
    ]
    assert events[1]["actor"]["user"] == "olga"
    assert events[0]["iso_time"].endswith("Z")
    since = json.loads(
        _cellgate(
            cellgate_bin, "events", "--json", "--db", str(recorded), "--since", str(T0 + FLOAT_END + 30)
        )
    )
    assert [e["code"] for e in since] == ["ack_alarm"]
    table = _cellgate(cellgate_bin, "events", "--db", str(recorded), "--kind", "command")
    assert "ack_alarm" in table
    assert "by olga via web" in table
    assert "string_discharging" not in table


def test_history_export_csv_of_one_unit(cellgate_bin: str, recorded: Path) -> None:
    out = _cellgate(
        cellgate_bin,
        "history",
        "export",
        "--db",
        str(recorded),
        "--unit",
        "String A:2",
        "--from",
        str(T0 + FLOAT_END),
        "--to",
        str(T0 + DISCHARGE_END - 1),
        "--resolution",
        "1m",
        "--fields",
        "voltage_v,voltage_v_min",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 20
    assert {float(r["voltage_v"]) for r in rows[:17]} == {11.0}
    assert [float(r["voltage_v_min"]) for r in rows[-3:]] == [9.5, 9.5, 9.5]
    assert rows[0]["time"].endswith("Z")


def test_history_export_json_full_rate_discharge(cellgate_bin: str, recorded: Path) -> None:
    out = _cellgate(
        cellgate_bin,
        "history",
        "export",
        "--db",
        str(recorded),
        "--string",
        "0",
        "--from",
        str(T0 + FLOAT_END),
        "--to",
        str(T0 + FLOAT_END + 99),
        "--format",
        "json",
        "--resolution",
        "raw",
    )
    doc = json.loads(out)
    assert doc["source"] == "strings[0]"
    assert len(doc["series"]["t"]) == 100  # every second of a discharge is kept
    assert set(doc["series"]["current_a"]) == {-40.0}


def test_annex_vii_export(cellgate_bin: str, recorded: Path, tmp_path: Path) -> None:
    target = tmp_path / "annex.json"
    _cellgate(
        cellgate_bin,
        "history",
        "export",
        "--db",
        str(recorded),
        "--string",
        "String A",
        "--annex-vii",
        "--from",
        str(T0),
        "--to",
        str(T0 + REST_END),
        "-o",
        str(target),
    )
    doc = json.loads(target.read_text())
    assert doc["string"]["name"] == "String A"
    assert doc["throughput"]["discharge_ah"] == pytest.approx(40 * 1200 / 3600, rel=1e-3)
    assert doc["throughput"]["charge_ah"] == pytest.approx(10 + 0.1, rel=1e-2)
    assert doc["throughput"]["equivalent_full_cycles"] == pytest.approx(0.1333, abs=1e-3)
    (deep,) = doc["deep_discharge_events"]
    assert deep == {"from": T0 + DISCHARGE_END - 180, "to": T0 + DISCHARGE_END}
    assert doc["overcharge_events"] == []
    assert doc["time_at_extreme_temperatures"]["hours_above"] == pytest.approx(0.5)
    assert doc["remaining_capacity_ah"] == pytest.approx(94.0, abs=0.05)
    assert doc["capacity_fade"]["fade"] == pytest.approx(0.01, abs=5e-4)
    assert doc["ri_increase"]["max"] == pytest.approx(0.1, abs=3e-3)
    (rest,) = doc["self_discharge"]["periods"]
    assert rest["soc_loss_per_day"] == pytest.approx(0.012, rel=0.05)


def test_bad_arguments_are_clear_errors(cellgate_bin: str, recorded: Path) -> None:
    done = subprocess.run(
        [cellgate_bin, "history", "export", "--db", str(recorded), "--unit", "String Z:1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no string 'String Z'" in done.stderr
    done = subprocess.run(
        [cellgate_bin, "events", "--db", str(recorded), "--since", "yesterday-ish"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "not a time" in done.stderr
