"""Who may export or erase whom, and what an erasure from one project leaves elsewhere."""

from __future__ import annotations

from sqlmodel import select

from tests.privacy.test_erase_everywhere import wait_job
from tests.support.live import HubClient, Live, serve
from tests.support.room import Room, make_room
from twinspace_rt.settings import Settings
from twinspace_rt.storage.chat_models import ChatMessage
from twinspace_rt.storage.models import User


def token(room: Room, role: str) -> str:
    return room.headers[role]["Authorization"].removeprefix("Bearer ")


async def say(live: Live, project_id: int, token_: str, *texts: str) -> None:
    hub = await HubClient.connect(live.url, project_id, token_)
    try:
        for i, text in enumerate(texts):
            await hub.ok("chat.send", channel="general", text=text, key=f"k{i}-{text}")
    finally:
        await hub.close()


async def messages_of(live: Live, user_id: int) -> list[ChatMessage]:
    async with live.services.db.reader() as tx:
        return list(await tx.exec(select(ChatMessage).where(ChatMessage.author_id == user_id)))


async def test_only_a_teacher_administrator_of_the_project_may_erase_or_export(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "o")
    base = f"/api/projects/{room.project_id}/members"
    pupil = room.user_ids["pupil"]
    for role in ("pupil_admin", "teacher", "expert", "observer"):
        for action in ("erase", "export"):
            refused = await live.http.post(
                f"{base}/{pupil}/{action}", json={}, headers=room.headers[role]
            )
            assert refused.status_code == 403, (role, action, refused.text)
            assert refused.json()["error"]["code"] == "forbidden"
    # Never across projects: the other room's administrator is not in this room.
    across = await live.http.post(
        f"{base}/{pupil}/export", json={}, headers=other.headers["teacher_admin"]
    )
    assert across.status_code in (403, 404)
    # Nor a member of another project through one's own.
    foreign = await live.http.post(
        f"/api/projects/{other.project_id}/members/{pupil}/erase",
        headers=other.headers["teacher_admin"],
    )
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    # Pupils have no account requests of their own.
    for path in ("/api/account/erase", "/api/account/export"):
        own = await live.http.post(path, json={}, headers=room.headers["pupil"])
        assert own.status_code == 403
    bad = await live.http.post(
        f"{base}/{pupil}/export", json={"language": "xx"}, headers=room.headers["teacher_admin"]
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"


async def test_the_last_teacher_administrator_and_the_founder_are_protected(live: Live) -> None:
    room = await make_room(live.http, live.services)
    admin = room.headers["teacher_admin"]
    alone = await live.http.post("/api/account/erase", headers=admin)
    assert alone.status_code == 409 and alone.json()["error"]["code"] == "last_admin"
    # A second administrator may not erase the founder either.
    base = f"/api/projects/{room.project_id}/members"
    promoted = await live.http.patch(
        f"{base}/{room.user_ids['teacher']}", json={"role": "teacher_admin"}, headers=admin
    )
    assert promoted.status_code == 200
    founder = await live.http.post(
        f"{base}/{room.user_ids['teacher_admin']}/erase", headers=room.headers["teacher"]
    )
    assert founder.status_code == 409 and founder.json()["error"]["code"] == "founder_protected"
    # The refusals changed nothing: the founder still enters the room.
    assert (
        await live.http.get(f"/api/projects/{room.project_id}", headers=admin)
    ).status_code == 200


async def test_a_pupil_is_erased_whole_and_cannot_log_in(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = room.user_ids["pupil"]
    await say(live, room.project_id, token(room, "pupil"), "hello from the pupil")
    erased = await live.http.post(
        f"/api/projects/{room.project_id}/members/{pupil}/erase",
        headers=room.headers["teacher_admin"],
    )
    assert erased.status_code == 202, erased.text
    await wait_job(live, erased.json()["id"])
    async with live.services.db.reader() as tx:
        assert await tx.get(User, pupil) is None
    username, password = room.pupil_passwords["pupil"]
    login = await live.http.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert login.status_code == 401
    # Asking again: the member is gone, so there is nothing left to erase.
    again = await live.http.post(
        f"/api/projects/{room.project_id}/members/{pupil}/erase",
        headers=room.headers["teacher_admin"],
    )
    assert again.status_code == 404


async def test_leaving_one_project_keeps_the_member_in_another(live: Live) -> None:
    """A teacher in two rooms, erased from one: the account and the other room stay whole."""
    first = await make_room(live.http, live.services, "a")
    second = await make_room(live.http, live.services, "b")
    teacher = first.user_ids["teacher"]
    invited = await live.http.post(
        f"/api/projects/{second.project_id}/members",
        json={"username": "a-teacher", "role": "teacher"},
        headers=second.headers["teacher_admin"],
    )
    assert invited.status_code == 201
    await say(live, first.project_id, token(first, "teacher"), "in the first room")
    await say(live, second.project_id, token(first, "teacher"), "in the second room")
    # The first room chose deleted tombstones rather than "(removed)".
    mode = await live.http.put(
        f"/api/projects/{first.project_id}/privacy",
        json={"erase_mode": "delete"},
        headers=first.headers["teacher_admin"],
    )
    assert mode.status_code == 200 and mode.json()["erase_mode"] == "delete"
    erased = await live.http.post(
        f"/api/projects/{first.project_id}/members/{teacher}/erase",
        headers=first.headers["teacher_admin"],
    )
    assert erased.status_code == 202
    job = await wait_job(live, erased.json()["id"])
    kept = await messages_of(live, teacher)
    assert [m.text for m in kept] == ["in the second room"]
    gone = await messages_of(live, job.placeholder_id or 0)
    assert [(m.text, m.deleted_at is not None) for m in gone] == [("", True)]
    rooms = await live.http.get("/api/projects", headers=first.headers["teacher"])
    assert [p["id"] for p in rooms.json()["projects"]] == [second.project_id]


async def test_a_repeated_request_returns_the_running_job(settings: Settings) -> None:
    # A long pause between batches keeps the job running while the second request comes.
    slow = settings.model_copy(update={"privacy_batch_pause_ms": 10000, "privacy_batch_size": 1})
    async with serve(slow) as live:
        room = await make_room(live.http, live.services)
        pupil = room.user_ids["pupil"]
        await say(live, room.project_id, token(room, "pupil"), "one", "two")
        path = f"/api/projects/{room.project_id}/members/{pupil}/export"
        first = await live.http.post(path, json={}, headers=room.headers["teacher_admin"])
        second = await live.http.post(path, json={}, headers=room.headers["teacher_admin"])
        assert first.status_code == second.status_code == 202
        assert first.json()["id"] == second.json()["id"]


async def test_an_archived_project_still_answers_requests(live: Live) -> None:
    room = await make_room(live.http, live.services)
    admin = room.headers["teacher_admin"]
    archived = await live.http.patch(
        f"/api/projects/{room.project_id}", json={"status": "archived"}, headers=admin
    )
    assert archived.status_code == 200
    exported = await live.http.post(
        f"/api/projects/{room.project_id}/members/{room.user_ids['pupil']}/export",
        json={"language": "da"},
        headers=admin,
    )
    assert exported.status_code == 202
    job = await wait_job(live, exported.json()["id"])
    assert job.file_name
    status = await live.http.get(f"/api/privacy/jobs/{job.id}", headers=admin)
    link = status.json()["download"]
    got = await live.http.get(link, headers=admin)
    assert got.status_code == 200 and got.content.startswith(b"PK")
    # The link needs its requester's token; the pupil it is about cannot see the job.
    assert (await live.http.get(link)).status_code == 401
    assert (
        await live.http.get(f"/api/privacy/jobs/{job.id}", headers=room.headers["pupil"])
    ).status_code == 404
    audit = await live.http.get(f"/api/projects/{room.project_id}/audit", headers=admin)
    actions = [e["action"] for e in audit.json()["entries"]]
    assert "privacy.export" in actions and "privacy.export.download" in actions
