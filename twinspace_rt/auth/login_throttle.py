"""Counts failed logins and says how long to wait, without letting one pupil lock out a class.

Schools put every pupil behind one public address, and anyone who knows a username could
lock its owner out if failures were counted per username alone. So:

- failures are counted per **username and address together**: after `max_failures` of them
  that pair waits a **growing delay** (`first_delay`, doubled with each further failure, at
  most `max_delay`), then may try again. The same username from another address, and other
  usernames from the same address (the teacher beside the pupil), are not slowed;
- failures are also counted per **address alone**, with a ceiling fit for a whole school
  (`address_max_failures` within `window`), so one address cannot guess on and on;
- a success forgets its pair; a teacher can `unlock` a pupil (every address at once).

With Redis configured the counts live there, so every node of a cluster sees the same ones
(its clock decides, in one Lua script each). While Redis cannot be reached a node falls back
to its own memory, which is only ever more lenient.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottleLimits:
    max_failures: int
    window: int
    first_delay: int
    max_delay: int
    address_max_failures: int

    def pair_wait(self, failures: int, since_last: float) -> float:
        """Seconds the pair still waits after `failures` failures, the last `since_last` ago."""
        if failures < self.max_failures:
            return 0.0
        delay = min(self.first_delay * 2.0 ** (failures - self.max_failures), self.max_delay)
        return delay - since_last

    @property
    def pair_memory(self) -> int:
        """How long a pair's count is kept after its last failure."""
        return max(self.window, self.max_delay)


@dataclass(frozen=True)
class Counts:
    """One pair's failures and seconds since the last, and the address's failures and the
    seconds until its count resets."""

    pair_failures: int = 0
    since_last: float = 0.0
    address_failures: int = 0
    address_resets_in: float = 0.0


class FailureStore(Protocol):
    async def read(self, username: str, address: str) -> Counts: ...
    async def record(self, username: str, address: str) -> None: ...
    async def forget(self, username: str, address: str) -> None: ...
    async def unlock(self, username: str) -> None: ...


class MemoryStore:
    """One node's counts (bounded: the oldest usernames are dropped first)."""

    def __init__(self, limits: ThrottleLimits, max_keys: int = 100_000) -> None:
        self._limits = limits
        self._max_keys = max_keys
        # username -> address -> (failures, time of the last)
        self._pairs: OrderedDict[str, dict[str, tuple[int, float]]] = OrderedDict()
        # address -> (failures, when the count resets)
        self._addresses: OrderedDict[str, tuple[int, float]] = OrderedDict()

    async def read(self, username: str, address: str) -> Counts:
        now = time.monotonic()
        failures, last = self._pair(username, address, now)
        count, resets = self._address(address, now)
        return Counts(failures, now - last, count, resets - now)

    async def record(self, username: str, address: str) -> None:
        now = time.monotonic()
        failures, _ = self._pair(username, address, now)
        self._pairs.setdefault(username, {})[address] = (failures + 1, now)
        self._pairs.move_to_end(username)
        count, resets = self._address(address, now)
        self._addresses[address] = (count + 1, resets if count else now + self._limits.window)
        self._addresses.move_to_end(address)
        for table in (self._pairs, self._addresses):
            while len(table) > self._max_keys:
                table.popitem(last=False)

    async def forget(self, username: str, address: str) -> None:
        self._pairs.get(username, {}).pop(address, None)

    async def unlock(self, username: str) -> None:
        self._pairs.pop(username, None)

    def _pair(self, username: str, address: str, now: float) -> tuple[int, float]:
        failures, last = self._pairs.get(username, {}).get(address, (0, now))
        return (0, now) if now - last > self._limits.pair_memory else (failures, last)

    def _address(self, address: str, now: float) -> tuple[int, float]:
        count, resets = self._addresses.get(address, (0, now))
        return (0, now) if resets <= now else (count, resets)


# KEYS: the username's hash (address -> "failures:time of the last"), the address's counter.
# ARGV: address, how long a pair is kept, the address window. Returns nothing.
RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local failures = 0
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  local count, last = string.match(entry, '^(%d+):(.+)$')
  if now - tonumber(last) <= tonumber(ARGV[2]) then failures = tonumber(count) end
end
redis.call('HSET', KEYS[1], ARGV[1], (failures + 1) .. ':' .. string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
"""

# Same keys and first argument; returns {pair failures, seconds since the last (a string),
# address failures, address TTL in ms}.
READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local failures, since = 0, '0'
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  local count, last = string.match(entry, '^(%d+):(.+)$')
  failures = tonumber(count)
  since = tostring(now - tonumber(last))
end
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
return {failures, since, address, redis.call('PTTL', KEYS[2])}
"""


class RedisStore:
    """The cluster's counts, under `<prefix>:login:`."""

    def __init__(self, url: str, prefix: str, limits: ThrottleLimits, timeout: float = 2.0):
        self._limits = limits
        self._prefix = f"{prefix}:login"
        self._client = redis.asyncio.Redis.from_url(
            url,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        self._record = self._client.register_script(RECORD)
        self._read = self._client.register_script(READ)

    def _keys(self, username: str, address: str) -> list[str]:
        return [f"{self._prefix}:user:{username}", f"{self._prefix}:addr:{address}"]

    async def read(self, username: str, address: str) -> Counts:
        failures, since, count, ttl_ms = await self._read(
            keys=self._keys(username, address), args=[address]
        )
        if float(since) > self._limits.pair_memory:
            failures = 0
        return Counts(int(failures), float(since), int(count), max(int(ttl_ms), 0) / 1000)

    async def record(self, username: str, address: str) -> None:
        await self._record(
            keys=self._keys(username, address),
            args=[address, self._limits.pair_memory, self._limits.window],
        )

    async def forget(self, username: str, address: str) -> None:
        await self._client.hdel(self._keys(username, address)[0], address)

    async def unlock(self, username: str) -> None:
        await self._client.delete(self._keys(username, "")[0])

    async def close(self) -> None:
        await self._client.aclose()


class LoginThrottle:
    """The one policy over either store; the caller normalises the username."""

    def __init__(
        self, limits: ThrottleLimits, redis_url: str | None = None, prefix: str = "twinspace"
    ) -> None:
        self.limits = limits
        self._memory = MemoryStore(limits)
        self._redis = RedisStore(redis_url, prefix, limits) if redis_url else None

    async def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until this username may try again from this address, or None for now."""
        counts = await self._call("read", username, address)
        assert isinstance(counts, Counts)
        waits = [self.limits.pair_wait(counts.pair_failures, counts.since_last)]
        if counts.address_failures >= self.limits.address_max_failures:
            waits.append(counts.address_resets_in)
        wait = max(waits)
        return max(1, math.ceil(wait)) if wait > 0 else None

    async def record_failure(self, username: str, address: str) -> None:
        await self._call("record", username, address)

    async def forget(self, username: str, address: str) -> None:
        await self._call("forget", username, address)

    async def unlock(self, username: str) -> None:
        """A teacher vouches for a pupil: every address may try the username again now."""
        await self._memory.unlock(username)
        if self._redis is not None:
            try:
                await self._redis.unlock(username)
            except RedisError as exc:
                log.warning("login throttle: redis unreachable, unlocked on this node: %s", exc)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()

    async def _call(self, step: str, *args: str) -> Counts | None:
        if self._redis is not None:
            try:
                result: Counts | None = await getattr(self._redis, step)(*args)
                return result
            except (RedisError, OSError) as exc:
                log.warning("login throttle: redis unreachable, counting on this node: %s", exc)
        result = await getattr(self._memory, step)(*args)
        return result
