"""`make fuzz`: `python -m tests.fuzz [--inputs N] [--seed S]` against a real server on SQLite.

Prints progress per 10 batches and, at the end, the count of inputs, batches, refusals and
close codes. Any failed check (a dead server, a stalled bystander, a stored document that does
not load or render, an error in the log) stops the run with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tests.fuzz.engine import Fuzzer, Stats, settings_for
from tests.support.live import serve
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade


async def main(inputs: int, seed: int) -> Stats:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/fuzz.db"
        db = Database(url)
        await upgrade(db)
        await db.close()
        async with serve(settings_for(Path(tmp) / "data", url)) as live:
            fuzzer = Fuzzer(live, seed)
            await fuzzer.setup()
            started = time.monotonic()

            def progress(stats: Stats) -> None:
                if stats.batches % 10 == 0:
                    rate = stats.inputs / (time.monotonic() - started)
                    print(
                        f"{stats.inputs} inputs, {stats.refused} refused, {rate:.0f}/s", flush=True
                    )

            try:
                return await fuzzer.run(inputs, progress=progress)
            finally:
                await fuzzer.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    stats = asyncio.run(main(args.inputs, args.seed))
    print(
        f"fuzz: {stats.inputs} inputs in {stats.batches} batches, {stats.refused} refused, "
        f"closes {dict(sorted(stats.closes.items()))}: no crash, no stalled document, "
        "no unrenderable document, no error logged"
    )
