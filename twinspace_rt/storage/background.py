"""Background loops (materials processing, privacy jobs, retention) that stop between steps.

A task cancelled inside a transaction has its connection's rollback cancelled too, and
SQLAlchemy then logs the pool's failed reset with a traceback. So a node that stops first asks
its loops to finish the step they are in, and cancels only what outlasts a grace period: a job
cut off that way is taken up again when its lease ends.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

STOP_GRACE_SECONDS = 10.0


async def rest(stopping: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Waits ``seconds``, or less when the node stops or ``wake`` is set."""
    waits = [asyncio.ensure_future(stopping.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def stop(
    stopping: asyncio.Event, tasks: list[asyncio.Task[None]], grace: float = STOP_GRACE_SECONDS
) -> None:
    """Asks the loops to end after their current step, then cancels those still running."""
    stopping.set()
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    for task in late:
        with suppress(asyncio.CancelledError):
            await task
