"""Live updates for the browser over Server-Sent Events.

``event: overview`` carries the whole overview (the same cached bytes as
``GET /api/v1/overview``) whenever the snapshot changed, at most every
``live_interval_s``; ``event: event`` carries each event as it happens; ``event: logout``
says the session ended. A browser that falls behind loses old events, never stalls us.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from gateway.core.events import Event
from plugins.web.api_read import event_dict
from plugins.web.security import Principal, Viewer, web_state
from plugins.web.serialize import dumps
from plugins.web.state import WebState

router = APIRouter(prefix="/api/v1", tags=["live"])
HEARTBEAT_S = 15.0
QUEUE_SIZE = 500


@router.get(
    "/live",
    summary="Server-Sent Events: 'overview' on each change, 'event' for each event",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(request: Request, principal: Principal = Viewer) -> StreamingResponse:
    web = web_state(request)
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
    web.listeners.add(queue)
    return StreamingResponse(
        _stream(web, principal, queue),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(web: WebState, principal: Principal, queue: asyncio.Queue[Event]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    interval = web.config.live_interval_s
    last_version = -1
    last_write = loop.time()
    try:
        yield b"retry: 3000\n\n"
        while not web.shutting_down.is_set():
            if principal.session is not None and web.sessions.get(principal.session_id) is None:
                yield b"event: logout\ndata: {}\n\n"
                return
            snapshot = web.ctx.snapshot()
            if snapshot.version != last_version:
                last_version = snapshot.version
                last_write = loop.time()
                yield b"event: overview\ndata: " + web.cache.get(snapshot).overview_json + b"\n\n"
            deadline = loop.time() + interval
            while (left := deadline - loop.time()) > 0:
                try:
                    event = await asyncio.wait_for(queue.get(), left)
                except TimeoutError:
                    break
                last_write = loop.time()
                yield b"event: event\nid: %d\ndata: %s\n\n" % (event.id, dumps(event_dict(event)))
            if loop.time() - last_write > HEARTBEAT_S:
                last_write = loop.time()
                yield b": keep-alive\n\n"  # proxies drop silent connections
    finally:
        web.listeners.discard(queue)
