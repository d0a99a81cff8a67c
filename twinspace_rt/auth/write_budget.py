"""Each member's REST write budget on this node (issue 13: a pupil posted 300 replies of
20 KB in under 3 s). Sockets have had request budgets from the start; this gives REST writes
the same token bucket, keyed by member."""

from __future__ import annotations

import math

from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.errors import AppError, ErrorCode


class WriteBudget:
    """Each member's REST writes on this node, as a token bucket like a socket's requests: a
    pupil posting hundreds of replies in seconds is answered 429 with ``Retry-After``.

    Per node and in memory, like the login throttle: a restart or another node only makes it
    more lenient for a moment. A bucket that has filled up again is the same as none, so such
    buckets are dropped when many have gathered.
    """

    PRUNE_AT = 10000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def charge(self, who: str) -> None:
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_AT:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full()}
            bucket = self._buckets[who] = TokenBucket(self.rate, self.burst)
        wait = bucket.take()
        if wait is not None:
            raise AppError(
                ErrorCode.rate_limited,
                "Too many changes in a short time; wait `retry_after` seconds.",
                retry_after=max(1, math.ceil(wait)),
            )
