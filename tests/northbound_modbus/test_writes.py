"""Writes: refused by default, accepted from allowed clients only, range-checked, audited as events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.core.commands import Actor
from gateway.core.events import Subscription
from tests.northbound_modbus.peers import Site, mbpoll


def drain(sub: Subscription) -> list[Any]:
    events = []
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    return events


async def write(port: int, kind: str, ref: int, *values: str, extra: tuple[str, ...] = ()) -> str:
    r = await mbpoll("-t", kind, "-r", str(ref), *extra, "-p", str(port), "127.0.0.1", *values)
    return "" if r.returncode == 0 else r.exception


async def test_writes_are_refused_by_default(start_service: Callable[..., Any], site: Site) -> None:
    sub = site.ctx.events.subscribe()
    service = await start_service()
    assert "Illegal function" in await write(service.port, "4", 3000, "7")
    assert "Illegal function" in await write(service.port, "0", 0, "1")
    assert site.commands == []
    refused = [e for e in drain(sub) if e.code == "modbus_write_refused"]
    # one event for this client and reason; the second attempt is counted into the next report
    assert len(refused) == 1
    assert refused[0].data["client"] == "127.0.0.1"
    assert refused[0].actor.source == "127.0.0.1"
    assert "127.0.0.1" in refused[0].message
    assert service.store is not None
    assert service.store.gate.refused == 2


async def test_allowed_client_writes_go_through_the_command_queue(
    start_service: Callable[..., Any],
    site: Site,
) -> None:
    sub = site.ctx.events.subscribe()
    service = await start_service(writes={"enabled": True, "allow": ["127.0.0.0/8"]})
    assert await write(service.port, "4", 3000, "7") == ""
    assert await write(service.port, "0", 2, "1") == ""  # coil 1 + string 1
    assert await write(service.port, "4", 3001, "0") == ""
    assert await write(service.port, "4:float", 3100, "14.1", extra=("-B",)) == ""
    kinds = [(c.kind, c.args) for c in site.commands]
    assert kinds[:3] == [
        ("ack_alarm", {"alarm_id": 7}),
        ("set_equalization", {"enabled": True, "string": 1}),
        ("set_equalization", {"enabled": False, "string": None}),
    ]
    assert kinds[3][0] == "set_threshold"
    assert kinds[3][1]["key"] == "unit_voltage_high.alarm"
    assert abs(kinds[3][1]["value"] - 14.1) < 1e-5
    assert site.commands[0].actor == Actor(
        user="modbus:127.0.0.1", role="operator", source="127.0.0.1", via="modbus"
    )
    accepted = [e for e in drain(sub) if e.code == "modbus_write"]
    assert len(accepted) == 4
    assert all(e.data["client"] == "127.0.0.1" and e.actor.source == "127.0.0.1" for e in accepted)


async def test_client_outside_the_allow_list_is_refused(
    start_service: Callable[..., Any], site: Site
) -> None:
    service = await start_service(writes={"enabled": True, "allow": ["10.0.0.0/8", "rtu"]})
    assert "Illegal function" in await write(service.port, "4", 3000, "7")
    assert site.commands == []


async def test_out_of_range_and_partial_writes_are_refused(
    start_service: Callable[..., Any], site: Site
) -> None:
    service = await start_service(writes={"enabled": True, "allow": ["127.0.0.1"]})
    assert "Illegal data value" in await write(service.port, "4", 3000, "0")  # alarm ids start at 1
    assert "Illegal data value" in await write(service.port, "4", 3001, "2")  # enable is 0 or 1
    assert "Illegal data value" in await write(service.port, "4:float", 3100, "25", extra=("-B",))
    assert "Illegal data address" in await write(service.port, "4", 3101, "1")  # half a float32
    assert "Illegal data address" in await write(service.port, "4", 1000, "1")  # read-only (mirrored input)
    assert "Illegal data address" in await write(service.port, "4", 40000, "1")  # unmapped
    assert site.commands == []


async def test_a_command_the_engine_refuses_answers_exception_04(
    start_service: Callable[..., Any], site: Site
) -> None:
    site.answer_ok = False
    service = await start_service(writes={"enabled": True, "allow": ["127.0.0.1"]})
    assert "failure" in (await write(service.port, "4", 3000, "7")).lower()
    assert [c.kind for c in site.commands] == ["ack_alarm"]
