"""Logging: JSON lines for machines, console for people, a level per plugin (``logging.levels``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from gateway.core.logging import get_logger, setup_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """setup_logging configures the whole process; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    quiet = logging.getLogger("plugins.quiet")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    quiet.setLevel(logging.NOTSET)
    structlog.configure(**config)


def test_json_lines_with_a_level_per_plugin() -> None:
    out = io.StringIO()
    setup_logging("info", "json", {"plugins.quiet": "error"}, stream=out)
    get_logger("plugins.loud").info("polled", line="bus1", units=24)
    get_logger("plugins.loud").debug("too fine for info")
    get_logger("plugins.quiet").warning("silenced by its own level")
    logging.getLogger("pymodbus.client").warning("a library's own log line")  # goes the same way
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["event"], r["level"], r["logger"]) for r in lines] == [
        ("polled", "info", "plugins.loud"),
        ("a library's own log line", "warning", "pymodbus.client"),
    ]
    assert lines[0]["line"] == "bus1"
    assert lines[0]["units"] == 24
    assert lines[0]["timestamp"].endswith("Z")


def test_console_format_is_one_readable_line() -> None:
    out = io.StringIO()
    setup_logging("debug", "console", stream=out)
    get_logger("plugins.x").debug("polled", line="bus1")
    (line,) = out.getvalue().splitlines()
    assert "polled" in line
    assert "line=bus1" in line
    assert "[plugins.x]" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
