"""Login throttling: after too many failures for one key (a user name or a remote address)
within a window, that key is locked out for a while.

Real time on purpose (``time.monotonic``): a lockout protects the real world, and a
simulator running at ``--speed 1440`` must not shorten it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Counts failures per key in a sliding window; ``locked_for(key)`` says how long is left."""

    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 300.0,
        lockout_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._now = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        # bounded memory: an attacker cycling through made-up user names must not grow it forever
        self._max_keys = max_keys

    def locked_for(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        until = self._locked_until.get(key)
        if until is None:
            return 0.0
        left = until - self._now()
        if left <= 0:
            del self._locked_until[key]
            return 0.0
        return left

    def failure(self, key: str) -> bool:
        """Count one failure; True when this failure locked ``key`` out."""
        now = self._now()
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] < now - self.window_s:
            times.popleft()
        if len(self._failures) > self._max_keys:
            self._forget_oldest()
        if len(times) >= self.max_failures:
            self._locked_until[key] = now + self.lockout_s
            times.clear()
            return True
        return False

    def success(self, key: str) -> None:
        self._failures.pop(key, None)

    def unlock(self, key: str) -> None:
        """An admin's manual unlock (or a password reset)."""
        self._failures.pop(key, None)
        self._locked_until.pop(key, None)

    def _forget_oldest(self) -> None:
        oldest = min(self._failures, key=lambda k: self._failures[k][-1] if self._failures[k] else 0.0)
        del self._failures[oldest]
