"""Write endpoints: each becomes a :class:`Command` for the engine, naming who sent it.

The role is checked here (a clear 403) and again by the engine; the engine runs the
command and publishes the event that records it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request

from gateway.core.commands import COMMAND_KINDS, Command, CommandRejected
from plugins.web.schemas import CommandOut, EqualizationIn, RelayIn, RiBaselineIn, ThresholdIn
from plugins.web.security import Admin, Operator, Principal, web_state

router = APIRouter(prefix="/api/v1", tags=["commands"])
THRESHOLD_KEY_RE = r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,3}$"


async def submit(request: Request, principal: Principal, kind: str, args: dict[str, Any]) -> CommandOut:
    """Queue one command and turn the engine's answer into an HTTP answer."""
    needed = COMMAND_KINDS[kind][0]
    if not principal.actor.may(needed):  # the route's dependency already checked; belt and braces
        raise HTTPException(403, f"this needs the {needed} role")
    web = web_state(request)
    try:
        result = await web.ctx.commands.submit(Command(kind, args, principal.actor), timeout=10.0)
    except TimeoutError:
        raise HTTPException(504, "the engine did not answer in time; the command may still run") from None
    except CommandRejected as e:
        raise HTTPException(409, f"refused: {e}") from None
    if not result.ok:
        raise HTTPException(409, f"refused: {result.message}")
    return CommandOut(ok=True, message=result.message, data=result.data)


@router.post("/alarms/{alarm_id}/ack", response_model=CommandOut, summary="Acknowledge an alarm (operator)")
async def ack_alarm(
    request: Request, alarm_id: int = Path(ge=1, le=2**62), principal: Principal = Operator
) -> CommandOut:
    if not any(a.id == alarm_id for a in web_state(request).ctx.snapshot().alarms):
        raise HTTPException(404, f"no alarm {alarm_id} is active or waiting for acknowledgement")
    return await submit(request, principal, "ack_alarm", {"alarm_id": alarm_id})


@router.put("/equalization", response_model=CommandOut, summary="Equalization on/off (operator)")
async def set_equalization(
    body: EqualizationIn, request: Request, principal: Principal = Operator
) -> CommandOut:
    snapshot = web_state(request).ctx.snapshot()
    if body.string is not None and body.string >= len(snapshot.strings):
        raise HTTPException(404, f"no string {body.string}")
    return await submit(
        request, principal, "set_equalization", {"enabled": body.enabled, "string": body.string}
    )


@router.post(
    "/strings/{index}/units/{position}/ri",
    response_model=CommandOut,
    summary="Measure one unit's internal resistance now (operator)",
)
async def request_ri(
    request: Request,
    index: int = Path(ge=0, le=10_000),
    position: int = Path(ge=1, le=100_000),
    principal: Principal = Operator,
) -> CommandOut:
    snapshot = web_state(request).ctx.snapshot()
    if index >= len(snapshot.strings) or not any(
        u.position == position for u in snapshot.strings[index].units
    ):
        raise HTTPException(404, f"no unit at string {index} position {position}")
    return await submit(request, principal, "request_ri", {"string": index, "position": position})


@router.post(
    "/strings/{index}/ri-baseline",
    response_model=CommandOut,
    summary="Set the Ri baseline of a unit or of the whole string (admin)",
)
async def set_ri_baseline(
    body: RiBaselineIn,
    request: Request,
    index: int = Path(ge=0, le=10_000),
    principal: Principal = Admin,
) -> CommandOut:
    if index >= len(web_state(request).ctx.snapshot().strings):
        raise HTTPException(404, f"no string {index}")
    return await submit(
        request,
        principal,
        "set_ri_baseline",
        {"string": index, "position": body.position, "ri_ohm": body.ri_ohm},
    )


@router.put(
    "/settings/thresholds/{key}",
    response_model=CommandOut,
    summary="Change an alarm threshold, e.g. unit_voltage_high.alarm (admin)",
)
async def set_threshold(
    body: ThresholdIn,
    request: Request,
    key: str = Path(max_length=200, pattern=THRESHOLD_KEY_RE),
    principal: Principal = Admin,
) -> CommandOut:
    return await submit(request, principal, "set_threshold", {"key": key, "value": body.value})


@router.put("/relays/{relay}", response_model=CommandOut, summary="Drive an AUX relay by hand (admin)")
async def set_relay(
    body: RelayIn, request: Request, relay: int = Path(ge=0, le=64), principal: Principal = Admin
) -> CommandOut:
    return await submit(request, principal, "set_relay", {"relay": relay, "on": body.on})
