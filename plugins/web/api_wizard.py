"""The addressing wizard over the API: start and stop it on a line (admin), and its state.

Starting and stopping are commands to the engine, which runs the wizard on the line's own
bus master and records who asked; progress arrives as ``wizard_*`` events on ``/live``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request

from plugins.web.api_write import submit
from plugins.web.schemas import CommandOut, WizardStartIn
from plugins.web.security import Admin, Principal, web_state

router = APIRouter(prefix="/api/v1", tags=["commands"])
LINE_MAX = 100


def _known_line(request: Request, line: str) -> None:
    if line not in {x.name for x in web_state(request).ctx.snapshot().lines}:
        raise HTTPException(404, f"no line {line!r}")


@router.get("/bus/wizard", summary="The addressing wizard: lines, and each line's session (admin)")
async def wizard_state(request: Request, _: Principal = Admin) -> dict[str, Any]:
    web = web_state(request)
    return {
        "available": True,
        "lines": [x.name for x in web.ctx.snapshot().lines],
        "sessions": web.wizards.sessions(),
    }


@router.post(
    "/lines/{line}/wizard",
    response_model=CommandOut,
    summary="Start the addressing wizard on a line: new monitors get ids from start up (admin)",
)
async def wizard_start(
    body: WizardStartIn,
    request: Request,
    line: str = Path(min_length=1, max_length=LINE_MAX),
    principal: Principal = Admin,
) -> CommandOut:
    _known_line(request, line)
    return await submit(request, principal, "wizard_start", {"line": line, "start": body.start})


@router.delete(
    "/lines/{line}/wizard", response_model=CommandOut, summary="Stop a line's addressing wizard (admin)"
)
async def wizard_stop(
    request: Request, line: str = Path(min_length=1, max_length=LINE_MAX), principal: Principal = Admin
) -> CommandOut:
    _known_line(request, line)
    return await submit(request, principal, "wizard_stop", {"line": line})
