"""Group commit: the writes submitted within a few milliseconds (``window``, in seconds) share
one transaction.

A busy node then pays one commit per batch rather than one per write. Each submitter still gets
its own answer, in its own future: the batch function returns one result or one exception per
item, in order. Used by chat posts (`chat/writer.py`) and document updates (`documents/log.py`).

One writer task serves every submitter of a node, so nothing may stop it: a batch whose commit
raises anything but cancellation (a Rust panic from pycrdt is a ``BaseException``) fails that
batch's submitters only, and a supervisor starts a new writer if the task ever dies anyway,
failing the submitters of the batch it held; what is still queued is served by the new one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from twinspace_rt import observability
from twinspace_rt.errors import AppError, ErrorCode

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        commit: Callable[[list[Item]], Awaitable[list[Result | Exception]]],
        window: float,
        batch_max: int = 500,
        name: str = "other",
    ) -> None:
        self._name = name  # the `writer` label of its metrics
        self._commit = commit
        self._window = window
        self._batch_max = batch_max
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: list[tuple[Item, asyncio.Future[Result]]] = []
        self._stopping = False
        self.batches = 0  # taken so far: how tests tell which batch an item went in
        self.restarts = 0

    async def submit(self, item: Item) -> Result:
        """Returns once the item's batch is committed, or raises the item's refusal."""
        return await self.enqueue(item)

    def enqueue(self, item: Item) -> asyncio.Future[Result]:
        """Queues the item now, behind everything queued before it; the future settles once its
        batch is committed. For a caller that goes on before the commit (a socket's reader
        taking its next message) but needs its items committed in order."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        if self._stopping:
            done.set_exception(AppError(ErrorCode.internal_error, "Server shutting down."))
            return done
        if self._task is None or self._task.done():
            self._start()
        self._queue.append((item, done))
        self._wakeup.set()
        return done

    async def close(self, drain: bool) -> None:
        """Stops after the batch in flight, which is never cut off: its writes may already be
        committed, and their submitters must hear so. What is still queued is then committed
        (``drain``) or refused."""
        self._stopping = True
        if self._task is not None:
            self._wakeup.set()
            await asyncio.wait([self._task])  # a writer that died must not stop the shutdown
            self._task = None
            self._fail(self._in_flight)
            self._in_flight = []
        if drain:
            while self._queue:
                await self._take_batch()
        for _, done in self._queue:
            done.set_exception(AppError(ErrorCode.internal_error, "Server shutting down."))
        self._queue.clear()

    def _start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._task.add_done_callback(self._supervise)

    def _supervise(self, task: asyncio.Task[None]) -> None:
        """The writer ended. Unless it was told to stop, it died: the batch it held fails
        cleanly and a new writer serves the queue. A cancelled writer (the loop is closing) is
        not restarted here; the next `enqueue` starts one if anyone still submits."""
        if self._stopping or task is not self._task:
            return
        self._fail(self._in_flight)
        self._in_flight = []
        if task.cancelled():
            return
        log.error("group commit: the writer died; starting a new one", exc_info=task.exception())
        self.restarts += 1
        self._start()
        self._wakeup.set()

    @staticmethod
    def _fail(batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        for _, done in batch:
            if not done.done():
                done.set_exception(AppError(ErrorCode.internal_error))

    async def _run(self) -> None:
        while not self._stopping:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(self._window)
            while self._queue and not self._stopping:
                await self._take_batch()

    async def _take_batch(self) -> None:
        batch = self._queue[: self._batch_max]
        del self._queue[: self._batch_max]
        started = time.perf_counter()
        self._in_flight = batch
        self.batches += 1
        try:
            results = await self._commit([item for item, _ in batch])
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: B036 - a Rust panic must not end the writer
            log.exception("group commit: a batch of %d failed", len(batch))
            results = [AppError(ErrorCode.internal_error)] * len(batch)
        observability.batch_committed(self._name, len(batch), time.perf_counter() - started)
        for (_, done), result in zip(batch, results, strict=True):
            if done.done():
                continue
            if isinstance(result, Exception):
                done.set_exception(result)
            else:
                done.set_result(result)
        self._in_flight = []
