"""Logging: structlog on top of the standard library, console for people, JSON lines for machines.

Everything — our components and the libraries (pymodbus, pysnmp, uvicorn) — goes through
one handler, so one format and per-logger levels (``logging.levels``) apply to all of it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def setup_logging(
    level: str = "info", fmt: str = "console", levels: Mapping[str, str] | None = None, stream: Any = None
) -> None:
    """Configure structlog and the stdlib root logger once, for the whole process."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if fmt == "json" else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(_LEVELS[level])
    for name, lvl in (levels or {}).items():
        logging.getLogger(name).setLevel(_LEVELS[lvl])


def get_logger(name: str) -> Any:
    """A structlog logger named like the module (``plugins.northbound_snmp.agent``)."""
    return structlog.stdlib.get_logger(name)
