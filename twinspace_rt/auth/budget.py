"""A token bucket, refilled continuously: the budget of one socket or one member.

Hub and Yjs sockets charge each frame to one before doing any work for it, and REST writes are
charged per member (`write_budget.py`), so a flood costs the server a subtraction per request.
"""

from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self, cost: float = 1) -> float | None:
        """None when allowed (``cost`` tokens taken); otherwise seconds until they are there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return None
        return (cost - self.tokens) / self.rate

    def full(self) -> bool:
        """Refilled to its burst: no different from a new bucket."""
        return self.tokens + (time.monotonic() - self.updated) * self.rate >= self.burst
