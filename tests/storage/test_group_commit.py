"""Group commit: natural batching (no timer), and at shutdown a batch being committed is never cut
off from its answers."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waiting import WAIT
from twinspace_rt.errors import AppError
from twinspace_rt.storage.engine import GroupCommit

pytestmark = pytest.mark.one_pass  # no database at all


async def test_the_first_write_commits_alone_and_what_arrives_meanwhile_shares_the_next() -> None:
    """No timer: the first write of a quiet spell is taken at once, alone; the writes submitted
    while its commit runs wait for it and then go together, in the order they came."""
    release = asyncio.Event()
    in_flight = asyncio.Event()
    committed: list[list[str]] = []

    async def commit(items: list[str]) -> list[str | Exception]:
        committed.append(items)
        if len(committed) == 1:
            in_flight.set()
            await release.wait()
        return [f"stored {item}" for item in items]

    batches: GroupCommit[str, str] = GroupCommit(commit)
    first = asyncio.create_task(batches.submit("a"))
    await asyncio.wait_for(in_flight.wait(), WAIT)
    assert committed == [["a"]], "the first write did not wait for company"
    later = [batches.enqueue(item) for item in ("b", "c", "d")]
    await asyncio.sleep(0)
    assert committed == [["a"]], "nothing is taken while a commit runs"
    assert not any(done.done() for done in later)
    release.set()
    assert await asyncio.wait_for(first, WAIT) == "stored a"
    assert await asyncio.wait_for(asyncio.gather(*later), WAIT) == [
        "stored b",
        "stored c",
        "stored d",
    ]
    assert committed == [["a"], ["b", "c", "d"]]
    assert batches.batches == 2
    await batches.close(drain=True)


async def test_closing_waits_for_the_batch_in_flight_then_refuses_the_rest() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    committed: list[list[str]] = []

    async def commit(items: list[str]) -> list[str | Exception]:
        started.set()
        await release.wait()
        committed.append(items)
        return [f"stored {item}" for item in items]

    batches: GroupCommit[str, str] = GroupCommit(commit)
    first = asyncio.create_task(batches.submit("a"))
    await asyncio.wait_for(started.wait(), WAIT)
    queued = asyncio.create_task(batches.submit("b"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(batches.close(drain=False))
    await asyncio.sleep(0.05)
    assert not closing.done(), "close must wait for the commit in flight"
    release.set()
    await asyncio.wait_for(closing, WAIT)
    assert await asyncio.wait_for(first, WAIT) == "stored a"
    assert committed == [["a"]]
    with pytest.raises(AppError):
        await queued
    with pytest.raises(AppError):
        await batches.submit("late")


async def test_closing_with_drain_commits_what_is_queued() -> None:
    async def commit(items: list[str]) -> list[str | Exception]:
        return [item.upper() for item in items]

    batches: GroupCommit[str, str] = GroupCommit(commit)
    pending = [asyncio.create_task(batches.submit(x)) for x in ("x", "y")]
    await asyncio.sleep(0)
    await asyncio.wait_for(batches.close(drain=True), WAIT)
    assert [await task for task in pending] == ["X", "Y"]


async def test_a_panicking_commit_fails_its_batch_only() -> None:
    """A Rust panic is a BaseException: it used to end the writer, and with it every write."""
    from pycrdt import Doc

    from tests.documents.test_poison import PANIC

    async def commit(items: list[str]) -> list[str | Exception]:
        if "poison" in items:
            replica: Doc = Doc()
            replica.apply_update(PANIC["base"])
            replica.apply_update(PANIC["panics"])
        return [item.upper() for item in items]

    batches: GroupCommit[str, str] = GroupCommit(commit)
    with pytest.raises(AppError):
        await asyncio.wait_for(batches.submit("poison"), 5)
    assert await asyncio.wait_for(batches.submit("next"), 5) == "NEXT"
    await batches.close(drain=True)


async def test_a_writer_that_dies_is_restarted_and_its_batch_fails_cleanly() -> None:
    calls = 0

    async def commit(items: list[str]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return []  # a bug: one answer short, which ends the writer task
        return [item.upper() for item in items]

    batches: GroupCommit[str, str] = GroupCommit(commit)
    with pytest.raises(AppError):
        await asyncio.wait_for(batches.submit("lost"), 5)
    assert await asyncio.wait_for(batches.submit("after"), 5) == "AFTER"
    assert batches.restarts == 1
    await asyncio.wait_for(batches.close(drain=True), 5)
