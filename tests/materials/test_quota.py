"""The project's quota holds when uploads are created at the same time: each creation's check
and its reservation are one step per project, so two that each fit alone cannot both pass."""

from __future__ import annotations

import asyncio

import pytest

from tests.materials.support import TUS, create, make_collection
from tests.support.live import Live
from tests.support.room import Room
from twinspace_rt.settings import Settings

QUOTA = 1_000_000
ROUNDS = 8


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"materials_project_quota_bytes": QUOTA})


async def test_two_creations_at_once_cannot_both_pass_the_quota(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    # Each alone fits; both together would pass the quota by a fifth.
    size = QUOTA * 6 // 10
    for _ in range(ROUNDS):
        answers = await asyncio.gather(
            *(
                create(live.http, teacher, room.project_id, folder, size, f"f{n}.zip")
                for n in range(2)
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201, 413], [answer.text for answer in answers]
        refused = next(answer for answer in answers if answer.status_code == 413)
        assert refused.json()["error"]["code"] == "quota_exceeded"
        # Dropping the unfinished upload frees its reservation for the next round.
        made = next(answer for answer in answers if answer.status_code == 201)
        dropped = await live.http.delete(made.headers["Location"], headers=teacher | TUS)
        assert dropped.status_code == 204
