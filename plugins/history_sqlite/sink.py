"""The default history sink and reader: SQLite (WAL) written by one thread, read by workers.

``write()`` and every persisted event only enqueue, so the event loop never waits on disk;
``events()`` and ``series()`` query through their own read-only connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from pydantic import Field

from gateway.core.components import ComponentConfig, GatewayContext, HistorySink
from gateway.core.events import Event, Subscription
from gateway.core.logging import get_logger
from gateway.core.model import Snapshot
from plugins.history_sqlite import reader, schema
from plugins.history_sqlite.writer import HistoryWriter, WriterSettings

log = get_logger("plugins.history_sqlite")


class SqliteHistoryConfig(ComponentConfig):
    path: str = Field("history.sqlite", description="History file, relative to data_dir.")
    raw_days: float = Field(7.0, gt=0, description="Days raw samples are kept.")
    rollup_1m_days: float = Field(35.0, gt=0, description="Days 1-minute rollups (mean/min/max) are kept.")
    rollup_1h_days: float = Field(3650.0, gt=0, description="Days hourly rollups are kept.")
    events_days: float = Field(3650.0, gt=0, description="Days events are kept.")
    size_budget_mb: float = Field(
        4096.0,
        gt=1,
        description="Largest the file may grow; beyond it the oldest "
        "day of the finest resolution is dropped first.",
    )
    raw_max_gap_s: float = Field(
        900.0,
        ge=1,
        description="A raw sample is kept at least this often even when "
        "nothing moved more than its deadband.",
    )
    full_rate_modes: list[str] = Field(
        ["discharge"],
        description="String modes in which every sample is kept (float, rest, charge, discharge).",
    )
    deadbands: dict[str, float] = Field(
        default_factory=dict,
        description="Change that makes a new raw sample outside a discharge, "
        "e.g. {unit.voltage_v: 0.002, unit.temperature_c: 0.2} (SI units).",
    )
    relative_deadbands: dict[str, float] = Field(
        default_factory=dict,
        description="The same as a fraction of the last kept value (the larger band counts), "
        "e.g. {unit.voltage_v: 0.0015, string.voltage_v: 0.001}.",
    )
    commit_interval_s: float = Field(
        1.0, gt=0, le=10, description="Longest time between commits: what a killed process may lose."
    )


class SqliteHistory(HistorySink):
    """History in one SQLite file (the default ``history: {type: sqlite}``)."""

    Config = SqliteHistoryConfig
    summary = "history in SQLite (WAL): raw window, 1-minute and hourly rollups, events"

    def __init__(self, config: SqliteHistoryConfig, ctx: GatewayContext) -> None:  # type: ignore[override]
        super().__init__(config, ctx)
        self.config: SqliteHistoryConfig = config
        self.path = Path(config.path).expanduser()
        if not self.path.is_absolute():
            self.path = (Path(ctx.data_dir) / self.path).resolve()
        self.writer: HistoryWriter | None = None
        self._sub: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None

    def _settings(self) -> WriterSettings:
        c = self.config
        return WriterSettings(
            raw_days=c.raw_days,
            rollup_1m_days=c.rollup_1m_days,
            rollup_1h_days=c.rollup_1h_days,
            events_days=c.events_days,
            size_budget_bytes=int(c.size_budget_mb * 1024 * 1024),
            raw_max_gap_s=c.raw_max_gap_s,
            full_rate_modes=frozenset(c.full_rate_modes),
            deadbands=dict(c.deadbands),
            relative_deadbands=dict(c.relative_deadbands),
            commit_interval_s=c.commit_interval_s,
        )

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = HistoryWriter(str(self.path), self._settings(), meta=self._meta())
        self.writer.start()
        await asyncio.to_thread(self.writer.ready.wait)
        if not self.writer.is_alive():
            raise RuntimeError(f"cannot open history file {self.path}")
        # events already stored keep their numbers; new ones continue after them
        self.ctx.events.start_ids_after(self.writer.last_event_id)
        self._sub = self.ctx.events.subscribe()
        self._pump = asyncio.create_task(self._persist_events(), name="history-events")
        log.info("history open", path=str(self.path))

    def _meta(self) -> dict[str, Any]:
        root = getattr(self.ctx.config, "root", self.ctx.config)
        strings = [
            {
                "name": s.name,
                "chemistry": getattr(s.chemistry, "value", s.chemistry),
                "nominal_voltage_v": s.nominal_voltage_v,
                "rated_capacity_ah": s.rated_capacity_ah,
                "model": s.units.model,
                "count": s.units.count,
            }
            for s in getattr(root, "strings", None) or []
        ]
        site = getattr(getattr(root, "site", None), "name", "")
        return {"strings": strings, "site": site} if strings or site else {}

    async def _persist_events(self) -> None:
        assert self._sub is not None
        assert self.writer is not None
        while True:
            event = await self._sub.get()
            self.writer.submit(event)

    async def stop(self) -> None:
        if self._pump:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._sub is not None:
            # events published before the pump stopped are still written
            while not self._sub.queue.empty() and self.writer:
                self.writer.submit(self._sub.queue.get_nowait())
            self.ctx.events.unsubscribe(self._sub)
            self._sub = None
        if self.writer is not None:
            self.writer.close()
            await asyncio.to_thread(self.writer.join, 30)
            self.writer = None

    async def write(self, snapshot: Snapshot) -> None:
        if self.writer is not None:
            self.writer.submit(snapshot)

    async def flush(self) -> None:
        """Wait until everything written or published so far is committed."""
        if self.writer is not None:
            while self._sub is not None and not self._sub.queue.empty():
                self.writer.submit(self._sub.queue.get_nowait())
            await asyncio.to_thread(self.writer.flush)

    # ------------------------------------------------------------------ HistoryReader
    def _read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        conn = schema.connect(str(self.path), readonly=True)
        try:
            return fn(conn, *args, **kwargs)
        finally:
            conn.close()

    async def events(
        self,
        *,
        since_id: int = 0,
        t_from: float | None = None,
        t_to: float | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        return await asyncio.to_thread(
            self._read, reader.events, since_id=since_id, t_from=t_from, t_to=t_to, kind=kind, limit=limit
        )

    async def series(
        self, source: str, fields: list[str], t_from: float, t_to: float, resolution: str = "auto"
    ) -> dict[str, list[Any]]:
        now = self.writer.latest_t if self.writer else None
        res = reader.pick_resolution(t_from, t_to, resolution, self.config.raw_days, now)
        return await asyncio.to_thread(self._read, reader.series, source, fields, t_from, t_to, res)

    def stats(self) -> dict[str, Any]:
        """Counters for the status page: queue depth, dropped items, write errors."""
        w = self.writer
        return {
            "queued": w.queue.qsize() if w else 0,
            "dropped": w.dropped if w else 0,
            "errors": w.errors if w else 0,
            "path": str(self.path),
        }
