"""Keeps a hostile or broken Modbus client from flooding the log through pymodbus's own messages.

pymodbus logs every undecodable frame; the service counts bad frames itself, so pymodbus's
warnings are let through in small bursts and the rest are counted and summarised.
"""

from __future__ import annotations

import logging
import time

PYMODBUS_LOGGER = "pymodbus.logging"


class BurstFilter(logging.Filter):
    """At most ``burst`` records per ``window_s``; the next one let through says how many were dropped."""

    def __init__(self, burst: int = 5, window_s: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._window_start = -window_s
        self._in_window = 0
        self.suppressed = 0
        self.users = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self._window_start >= self.window_s:
            self._window_start, self._in_window = now, 0
        if self._in_window >= self.burst:
            self.suppressed += 1
            return False
        self._in_window += 1
        if self.suppressed:
            record.msg = f"{record.getMessage()} ({self.suppressed} similar pymodbus messages suppressed)"
            record.args = ()
            self.suppressed = 0
        return True


def install() -> BurstFilter:
    """Attach the shared filter to pymodbus's logger (counted, so several services share one)."""
    logger = logging.getLogger(PYMODBUS_LOGGER)
    existing = next((f for f in logger.filters if isinstance(f, BurstFilter)), None)
    filt = existing or BurstFilter()
    if existing is None:
        logger.addFilter(filt)
    filt.users += 1
    return filt


def uninstall(filt: BurstFilter) -> None:
    filt.users -= 1
    if filt.users <= 0:
        logging.getLogger(PYMODBUS_LOGGER).removeFilter(filt)
