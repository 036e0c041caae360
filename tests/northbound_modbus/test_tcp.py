"""The ``modbus`` service over TCP, read and written with mbpoll (libmodbus), never our own client."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from gateway.core.model import Quality
from plugins.northbound_modbus.compiler import CompiledPoint, Layout, compile_map
from plugins.northbound_modbus.mapfile import DEFAULT_MAP, load_map
from tests.northbound_modbus.peers import Site, mbpoll
from tests.northbound_modbus.reference import expected
from tests.northbound_modbus.synthetic import LAYOUT, snapshot

TYPE_FLAG = {"coil": "0", "discrete_input": "1", "input_register": "3", "holding_register": "4"}


def runs(points: list[CompiledPoint], limit: int = 125) -> Iterator[tuple[int, int]]:
    """Contiguous mapped address ranges of one table, at most ``limit`` long."""
    cells = sorted({a for p in points for a in range(p.address, p.address + p.width)})
    start = prev = cells[0]
    for a in cells[1:]:
        if a != prev + 1 or a - start >= limit:
            yield start, prev - start + 1
            start = a
        prev = a
    yield start, prev - start + 1


def _int(text: str) -> int:
    return int(text)


async def read_table(target: tuple[str, ...], function: str, points: list[CompiledPoint]) -> dict[int, int]:
    """Every mapped address of one table, read with mbpoll; ``target`` is mbpoll's connection arguments."""
    got: dict[int, int] = {}
    for start, count in runs(points):
        r = await mbpoll("-t", TYPE_FLAG[function], "-r", str(start), "-c", str(count), *target)
        assert r.returncode == 0, (function, start, count, r.exception)
        got.update({k: _int(v) for k, v in r.values().items()})
    return got


async def check_every_value(target: tuple[str, ...], site: Site) -> int:
    """Read every point of the default map and compare it with the snapshot; returns the count."""
    compiled = compile_map(load_map(DEFAULT_MAP), Layout(LAYOUT))
    checked = 0
    for function in ("input_register", "discrete_input", "coil", "holding_register"):
        points = compiled.of(function)
        got = await read_table(target, function, points)
        now = time.time()
        for p in points:
            want = expected(p, site.snapshot, now)
            if p.data_type == "bool":
                assert got[p.address] == int(want), p.source.path
            elif p.source.path == "site.age_s":
                assert got[p.address] <= 5
            else:
                assert [got[a] for a in range(p.address, p.address + p.width)] == want, (function, p.address)
            checked += 1
    assert checked == len(compiled.points)
    return checked


async def test_every_mapped_value_of_the_default_map_reads_back_with_mbpoll(
    start_service: Callable[..., Any],
    site: Site,
) -> None:
    service = await start_service()
    await check_every_value(("-p", str(service.port), "127.0.0.1"), site)
    # spot checks written out by hand, so the reference cannot be wrong the same way
    r = await mbpoll("-t", "3", "-r", "1003", "-c", "2", "-p", str(service.port), "127.0.0.1")
    assert r.values() == {1003: str(sum(LAYOUT)), 1004: "3"}
    r = await mbpoll("-t", "3", "-r", "10000", "-c", "6", "-p", str(service.port), "127.0.0.1")
    assert list(r.values().values()) == ["13200", "13201", "13202", "13203", "13204", "65535"]


async def test_input_registers_mirror_as_holding_registers(start_service: Callable[..., Any]) -> None:
    service = await start_service()
    a = await mbpoll("-t", "3", "-r", "12000", "-c", "100", "-p", str(service.port), "127.0.0.1")
    b = await mbpoll("-t", "4", "-r", "12000", "-c", "100", "-p", str(service.port), "127.0.0.1")
    assert a.values() == b.values()
    assert len(a.values()) == 100
    plain = await start_service(holding_mirrors_input=False)
    r = await mbpoll("-t", "4", "-r", "12000", "-c", "1", "-p", str(plain.port), "127.0.0.1")
    assert "Illegal data address" in r.exception


async def test_comm_lost_unit_reads_no_data_then_recovers(
    start_service: Callable[..., Any], site: Site
) -> None:
    service = await start_service()
    port = str(service.port)
    r = await mbpoll("-t", "3", "-r", "10005", "-p", port, "127.0.0.1")
    assert r.values()[10005] == "65535"
    r = await mbpoll("-t", "3", "-r", "16005", "-p", port, "127.0.0.1")
    assert int(r.values()[16005]) & 0b1000_0001 == 0b1000_0001  # no data + comm lost
    # the monitor answers again: a new snapshot version, and the value is back on the next read
    new = snapshot(version=2, time=time.time())
    s0 = new.strings[0]
    units = list(s0.units)
    units[5] = replace(units[5], quality=Quality.GOOD, status="ok")
    site.snapshot = replace(new, strings=(replace(s0, units=tuple(units)), *new.strings[1:]))
    r = await mbpoll("-t", "3", "-r", "10005", "-p", port, "127.0.0.1")
    assert r.values()[10005] == "13205"
    r = await mbpoll("-t", "3", "-r", "16005", "-p", port, "127.0.0.1")
    assert int(r.values()[16005]) & 0b1000_0001 == 0


async def test_no_snapshot_yet_reads_as_no_data_and_not_running(
    start_service: Callable[..., Any], site: Site
) -> None:
    service = await start_service()
    site.snapshot = snapshot(version=0, time=0.0)
    r = await mbpoll("-t", "3", "-r", "1000", "-p", str(service.port), "127.0.0.1")
    flags = int(r.values()[1000])
    assert flags & 1 == 0  # not running
    assert flags & 1 << 6  # data stale


async def test_unmapped_reads_answer_exception_02_and_unknown_unit_ids_0b(
    start_service: Callable[..., Any],
) -> None:
    service = await start_service()
    port = str(service.port)
    r = await mbpoll("-t", "3", "-r", "20000", "-p", port, "127.0.0.1")
    assert "Illegal data address" in r.exception
    r = await mbpoll("-t", "3", "-r", "1005", "-c", "10", "-p", port, "127.0.0.1")  # all mapped
    assert r.returncode == 0
    r = await mbpoll("-t", "3", "-r", "1095", "-c", "10", "-p", port, "127.0.0.1")  # 1100 mapped, 1099 not
    assert "Illegal data address" in r.exception
    r = await mbpoll("-a", "7", "-t", "3", "-r", "1000", "-p", port, "127.0.0.1")
    assert "Target device failed to respond" in r.exception
    gaps = await start_service(allow_gaps=True)
    r = await mbpoll("-t", "3", "-r", "1095", "-c", "10", "-p", str(gaps.port), "127.0.0.1")
    assert r.returncode == 0


async def test_several_unit_ids_serve_the_same_map(start_service: Callable[..., Any]) -> None:
    service = await start_service(unit_ids=[1, 255])
    a = await mbpoll("-a", "1", "-t", "3", "-r", "1003", "-p", str(service.port), "127.0.0.1")
    b = await mbpoll("-a", "255", "-t", "3", "-r", "1003", "-p", str(service.port), "127.0.0.1")
    assert a.values() == b.values() == {1003: str(sum(LAYOUT))}


def test_reference_marks_missing_values() -> None:
    snap = snapshot()
    compiled = compile_map(load_map(DEFAULT_MAP), Layout(LAYOUT))
    lost = next(p for p in compiled.points if p.source.path == "strings[0].units[5].temperature_c")
    assert expected(lost, snap, 0.0) == [0x8000]
    assert not math.isnan(snap.strings[0].units[5].temperature_c or math.nan)
