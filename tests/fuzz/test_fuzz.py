"""The fuzzer in the suite: a seeded few thousand inputs against a real server (`make fuzz`
runs 100 000). Any failed check names the input that caused it."""

from __future__ import annotations

from tests.fuzz.engine import Fuzzer, settings_for
from tests.support.live import serve
from twinspace_rt.settings import Settings

INPUTS = 2500


async def test_mutated_client_traffic_breaks_nothing(settings: Settings) -> None:
    from twinspace_rt.storage.engine import Database
    from twinspace_rt.storage.migrate import upgrade

    db = Database(settings.effective_database_url)
    await upgrade(db)  # SQLite's test database starts empty; PostgreSQL's is migrated already
    await db.close()
    async with serve(settings_for(settings.data_dir, settings.effective_database_url)) as live:
        fuzzer = Fuzzer(live, seed=12)
        await fuzzer.setup()
        try:
            stats = await fuzzer.run(INPUTS)
        finally:
            await fuzzer.close()
    assert stats.inputs == INPUTS
    assert stats.refused > INPUTS // 4, "the mutations reach the refusals"
    assert stats.refused < INPUTS, "and some inputs are accepted"
