"""How long a test waits for what must happen: one generous bound for the whole suite.

Tests wait on events (a push, a reply, a process answering) and give up only after `WAIT`
seconds. A loaded machine (stress-ng on every core, a laptop compiling, a shared CI runner)
makes things slower, never wrong, so the bound is far above any normal run; a passing test
never waits that long, only a failing one does. No test measures how long something took:
that belongs in bench/. ``TWINSPACE_TEST_WAIT`` changes the bound for a slow machine.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

WAIT = float(os.environ.get("TWINSPACE_TEST_WAIT", "60"))


async def eventually(
    condition: Callable[[], bool], timeout: float = WAIT, interval: float = 0.02
) -> None:
    """Returns once `condition()` holds; checks it every `interval`, for at most `timeout`."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(interval)


async def eventually_async(
    condition: Callable[[], Awaitable[bool]], timeout: float = WAIT, interval: float = 0.05
) -> None:
    """`eventually` for a condition that has to ask something (an HTTP route, a database)."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(interval)
