"""Counts failed logins per username and per client address, and says when to stop trying.

Kept in process memory: a node forgets on restart, which only ever makes it more lenient.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: int, max_keys: int = 100_000) -> None:
        self._max_failures = max_failures
        self._window = window_seconds
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds until the most restricted key may try again, or None when all may try now."""
        now = time.monotonic()
        waits = []
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self._max_failures:
                waits.append(failures[0] + self._window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def record_failure(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures
