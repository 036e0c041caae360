"""Live updates for the browser over Server-Sent Events, gzipped for clients that accept it.

``event: overview`` carries the whole overview (the same cached bytes as
``GET /api/v1/overview``) whenever the snapshot changed, at most every
``live_interval_s``; ``event: event`` carries each event as it happens; ``event: logout``
says the session ended. A browser that falls behind loses old events, never stalls us.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import aclosing

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
# Level 1: a 512-unit overview (174 KiB) shrinks 15x in 0.4 ms, level 6 19x in 1.1 ms
# (bench/web_overview.py --part live): 98 % of the saving for a third of the CPU, which
# every client costs once a second.
GZIP_LEVEL = 1
GZIP_WBITS = 31  # 16 + 15: gzip framing around a full 32 KiB deflate window


@router.get(
    "/live",
    summary="Server-Sent Events: 'overview' on each change, 'event' for each event",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(request: Request, principal: Principal = Viewer) -> StreamingResponse:
    web = web_state(request)
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
    web.listeners.add(queue)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Vary": "Accept-Encoding"}
    messages = _stream(web, principal, queue)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        messages = gzip_messages(messages)
    return StreamingResponse(messages, media_type="text/event-stream", headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """True if an Accept-Encoding header names gzip with a non-zero q (``gzip;q=0`` refuses it)."""
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() not in ("gzip", "x-gzip"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


async def gzip_messages(messages: AsyncIterator[bytes], level: int = GZIP_LEVEL) -> AsyncIterator[bytes]:
    """One gzip stream for the whole connection, flushed after every SSE message.

    One compressor per connection keeps its window across messages (an event repeats the
    previous one's keys); Z_SYNC_FLUSH ends each message on a byte boundary the browser can
    decode at once, so compression never holds an update back.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    async with aclosing(messages):  # a client gone mid-stream still runs the stream's cleanup
        async for message in messages:
            yield compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush(zlib.Z_FINISH)  # the gzip trailer: a stream we end is a complete file


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
