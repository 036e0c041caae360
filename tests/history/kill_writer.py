"""Child process of the kill -9 test: writes a 512-unit site 10× faster than real time, forever.

After handing each snapshot (and its events) to the history it appends ``k monotonic`` to the
progress file with an unbuffered write, so the parent knows what was submitted and when.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from gateway.core.events import Event
from gateway.core.model import StringMode
from plugins.history_sqlite.sink import SqliteHistory, SqliteHistoryConfig
from tests.history.site import T0, context, snapshot

RATE_HZ = 10.0
UNITS, STRINGS = 128, 4  # 512 units


async def main(folder: Path, progress: Path) -> None:
    ctx = context(folder, count=UNITS, strings=STRINGS)
    sink = SqliteHistory(SqliteHistoryConfig(), ctx)
    await sink.start()
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    k = 0
    next_at = time.monotonic()
    while True:
        t = T0 + k
        await sink.write(snapshot(t, count=UNITS, strings=STRINGS, mode=StringMode.DISCHARGE, version=k))
        for j in range(5):
            ctx.events.publish(Event(t, "alarm", f"code{j}", f"event {k}.{j}", data={"k": k}))
        await asyncio.sleep(0)  # the sink's event pump hands them to the writer
        os.write(fd, f"{k} {time.monotonic()}\n".encode())
        k += 1
        next_at += 1 / RATE_HZ
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
