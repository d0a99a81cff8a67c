"""Retention of materials (with their files) and journal posts (with their comments, likes and
stored pushes), time moved forward by the clock handed in, two nodes running at once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import SQLModel

from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.privacy.test_retention import START, count, quiet, two_nodes
from tests.support.live import Live
from tests.support.room import Room, make_room
from twinspace_rt.journal.streams import STREAMS
from twinspace_rt.materials.blobs import project_prefix

__all__ = ["quiet"]


async def backdate(live: Live, name: str, row_id: int, days: int) -> None:
    """As if the row had been made ``days`` before the test began."""
    target = SQLModel.metadata.tables[name]
    async with live.services.db.transaction() as tx:
        await (await tx.connection()).execute(
            update(target)
            .where(target.c.id == row_id)
            .values(created_at=START - timedelta(days=days))
        )


async def photo(live: Live, room: Room, album: int, data: bytes) -> int:
    headers = room.headers["teacher"]
    location = await upload(live.http, headers, room.project_id, album, data)
    done = await processed(live.http, headers, location)
    assert done["status"] == "done", done
    return int(done["material_id"])


async def post(live: Live, room: Room, path: str, role: str = "teacher") -> int:
    made = await live.http.post(
        f"/api/projects/{room.project_id}/journal{path}",
        json={"body": f"{role} wrote {path}"},
        headers=room.headers[role],
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def journal_frames(live: Live, project_id: int) -> set[Any]:
    events = SQLModel.metadata.tables["forum_events"]
    async with live.services.db.reader() as tx:
        found = await (await tx.connection()).execute(
            select(events.c.post_id).where(
                events.c.project_id == project_id, events.c.stream.in_(STREAMS)
            )
        )
        return set(found.scalars())


async def test_old_materials_and_journal_posts_go_with_their_files_and_comments(
    quiet: Live,
) -> None:
    room = await make_room(quiet.http, quiet.services)
    admin = room.headers["teacher_admin"]
    base = f"/api/projects/{room.project_id}"
    album = await make_collection(quiet.http, room.headers["teacher"], room.project_id, "album")
    shared = gps_photo((64, 32))
    old_shared = await photo(quiet, room, album, shared)
    young_shared = await photo(quiet, room, album, shared)  # the same bytes: one blob
    old_own = await photo(quiet, room, album, gps_photo((40, 30)))
    store = quiet.services.privacy.store
    blobs_before = set(await store.keys(project_prefix(room.project_id)))
    for material in (old_shared, old_own):
        await backdate(quiet, "materials", material, 40)

    old_post = await post(quiet, room, "")
    old_post_comment = await post(quiet, room, f"/{old_post}/comments", "teacher_admin")
    liked = await quiet.http.post(
        f"{base}/journal/{old_post}/like", json={"on": True}, headers=admin
    )
    assert liked.status_code == 200, liked.text
    young_post = await post(quiet, room, "")
    young_comment = await post(quiet, room, f"/{young_post}/comments", "teacher_admin")
    old_comment = await post(quiet, room, f"/{young_post}/comments", "teacher_admin")
    # The old post's comment is young: it goes with its post all the same.
    await backdate(quiet, "journal_posts", old_post, 40)
    await backdate(quiet, "journal_posts", old_comment, 40)

    chosen = await quiet.http.put(
        f"{base}/privacy", json={"materials_days": 10, "journal_days": 30}, headers=admin
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["materials_days"] == 10 and chosen.json()["journal_days"] == 30

    quiet.services.privacy.clock = lambda: START + timedelta(days=1)
    preview = await quiet.http.get(f"{base}/privacy/retention", headers=admin)
    assert preview.json()["removed"] == {
        "chat_messages": 0,
        "materials": 2,
        "journal_posts": 3,
        "audit_log": 0,
    }
    # It names what goes, oldest first: the file names, the start of each post.
    listed = preview.json()["listed"]
    assert sorted(m["id"] for m in listed["materials"]) == sorted([old_shared, old_own])
    assert {m["label"] for m in listed["materials"]} == {"photo.jpg"}
    posts = [(p["id"], p["label"]) for p in listed["journal_posts"]]
    assert sorted(posts[:2]) == sorted(
        [(old_post, "teacher wrote "), (old_comment, f"teacher_admin wrote /{young_post}/comments")]
    )
    assert posts[2] == (old_post_comment, f"teacher_admin wrote /{old_post}/comments")
    assert await count(quiet, "materials", project_id=room.project_id) == 3, "a dry run"

    reports = await two_nodes(quiet.services.settings, START + timedelta(days=1))
    assert sorted(r.ran for r in reports) == [False, True]
    ran = next(r for r in reports if r.ran)
    assert ran.removed["materials"] == 2 and ran.removed["journal_posts"] == 3

    left = await quiet.http.get(f"{base}/materials?collection={album}", headers=admin)
    assert left.status_code == 200, left.text
    assert await count(quiet, "materials", project_id=room.project_id) == 1
    assert await count(quiet, "materials", id=young_shared) == 1
    # The old photo's own file went; the shared file stays for the young material.
    blobs_after = set(await store.keys(project_prefix(room.project_id)))
    assert blobs_after < blobs_before and blobs_after
    async with quiet.services.db.reader() as tx:
        events = SQLModel.metadata.tables["material_events"]
        frames = (await (await tx.connection()).execute(select(events.c.frame))).scalars()
        named = {json.loads(f).get("material", {}).get("id") for f in frames}
    assert young_shared in named and not named & {old_shared, old_own}

    kept = {young_post, young_comment}
    for gone in (old_post, old_post_comment, old_comment):
        assert await count(quiet, "journal_posts", id=gone) == 0
    for stays in kept:
        assert await count(quiet, "journal_posts", id=stays) == 1
    assert await count(quiet, "journal_likes", post_id=old_post) == 0
    # Resume never replays a removed post: its stored pushes went with it.
    assert await journal_frames(quiet, room.project_id) <= kept
