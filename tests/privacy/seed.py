"""Two teachers, X and Y, leave data in every table the way members do: over the hub, REST and
y-websocket on a real node. Only what no member can cause (a quarantined update, a video seat,
a presence entry a crashed node left behind) is written straight to the store.

`test_seed_covers_every_table` fails when a new table is not seeded: add its rows here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import SQLModel

from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.support.live import HubClient, Live
from tests.support.room import PASSWORD, add_teacher, bearer
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.hub import presence
from twinspace_rt.projects import events as project_events
from twinspace_rt.storage.document_models import DocQuarantine
from twinspace_rt.storage.models import User
from twinspace_rt.storage.video_models import Participant, ParticipantState, VideoSession

X_NAME = "Xenia Quorn"
Y_NAME = "Yusuf Brill"


@dataclass
class Person:
    user_id: int
    username: str
    display_name: str
    headers: dict[str, str]
    # What this person wrote, to compare with their export.
    chat: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.headers["Authorization"].removeprefix("Bearer ")


@dataclass
class Seed:
    admin: Person
    x: Person
    y: Person
    project_id: int  # founded by the admin; X and Y are teacher administrators in it
    x_project_id: int  # founded by X, with Y as a second teacher administrator
    doc_id: int
    x_hub: HubClient
    y_hub: HubClient
    sockets: list[HubClient | YjsClient] = field(default_factory=list)

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()


async def _teacher(live: Live, username: str, display_name: str) -> Person:
    user_id = await add_teacher(live.services, username)
    async with live.services.db.transaction() as tx:
        user = await tx.get(User, user_id)
        assert user is not None
        user.display_name = display_name
        tx.add(user)
    return Person(user_id, username, display_name, bearer(live.services, user_id))


async def _ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json() if response.content else None


FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"


async def seed(live: Live) -> Seed:
    http = live.http
    admin = await _teacher(live, "alba-admin", "Alba Admin")
    x = await _teacher(live, "xenia-quorn", X_NAME)
    y = await _teacher(live, "yusuf-brill", Y_NAME)
    project = await _ok(
        await http.post("/api/projects", json={"name": "Rivers"}, headers=admin.headers), 201
    )
    project_id = project["id"]
    base = f"/api/projects/{project_id}"
    for person in (x, y):
        await _ok(
            await http.post(
                f"{base}/members",
                json={"username": person.username, "role": "teacher_admin"},
                headers=admin.headers,
            ),
            201,
        )
    own = await _ok(
        await http.post("/api/projects", json={"name": "Xenia's class"}, headers=x.headers), 201
    )
    x_project_id = own["id"]
    await _ok(
        await http.post(
            f"/api/projects/{x_project_id}/members",
            json={"username": y.username, "role": "teacher_admin"},
            headers=x.headers,
        ),
        201,
    )
    # Each creates a pupil (audit entries about people) and a channel.
    for person in (x, y):
        await _ok(
            await http.post(
                f"{base}/pupils",
                json={"display_name": f"Pupil of {person.username[:5]}", "role": "pupil"},
                headers=person.headers,
            ),
            201,
        )
        await _ok(
            await http.post(
                f"{base}/channels",
                json={"name": f"ch-{person.username[:5]}", "title": "Corner", "rule": "all"},
                headers=person.headers,
            ),
            201,
        )
    await _ok(await http.put(f"{base}/privacy", json={"chat_days": 30}, headers=admin.headers))
    # Login history: a sign-in and a wrong password each, from a described browser.
    for person in (x, y):
        for password in (PASSWORD, "not-the-password"):
            await http.post(
                "/api/auth/login",
                json={"username": person.username, "password": password},
                headers={"User-Agent": FIREFOX},
            )

    sockets: list[HubClient | YjsClient] = []
    hubs = {}
    for person in (x, y):
        hub = await HubClient.connect(live.url, project_id, person.token)
        sockets.append(hub)
        hubs[person.user_id] = hub
        await hub.ok("chat.subscribe", channels={"general": None})
        await hub.ok(
            "presence.update", status="active", location={"kind": "channel", "ref": "general"}
        )
    # Chat: X and Y write, each reacts to the other, Y mentions X by both names.
    sent: dict[int, list[int]] = {}
    for person in (x, y):
        for i in range(3):
            text = f"message {i} from {person.display_name}"
            if person is y and i == 0:
                text = f"thanks @{x.username}, {X_NAME} said it well"
            ack = await hubs[person.user_id].ok(
                "chat.send", channel="general", text=text, key=f"{person.username}-{i}"
            )
            sent.setdefault(person.user_id, []).append(ack["seq"])
            person.chat.append(text)
    for person, other in ((x, y), (y, x)):
        hub = hubs[person.user_id]
        await hub.ok("chat.react", channel="general", seq=sent[other.user_id][0], emoji="👍")
        await hub.ok("chat.read", channel="general", seq=sent[other.user_id][-1])
        await hub.ok(
            "chat.report", channel="general", seq=sent[other.user_id][1], reason="off topic"
        )
        await hub.ok("typing", channel="general")

    # Forums: X opens a forum and a thread, both reply, react, report and read; bulletin.
    forum = await _ok(
        await http.post(f"{base}/forums", json={"title": "Rivers forum"}, headers=x.headers), 201
    )
    thread = await _ok(
        await http.post(
            f"{base}/forums/{forum['id']}/threads",
            json={"title": "Our river", "body": f"opening by {X_NAME}"},
            headers=x.headers,
        ),
        201,
    )
    x.posts.append(f"opening by {X_NAME}")
    thread_id = thread["thread"]["id"]
    posts: dict[int, int] = {}
    for person in (x, y):
        body = f"reply by {person.username}"
        if person is y:
            body = f"> {X_NAME} wrote: the river is long\n\nI agree with @{x.username}"
        made = await _ok(
            await http.post(
                f"{base}/threads/{thread_id}/posts", json={"body": body}, headers=person.headers
            ),
            201,
        )
        posts[person.user_id] = made["id"]
        person.posts.append(body)
        bulletin = f"bulletin of {person.display_name}"
        await _ok(
            await http.post(f"{base}/bulletin", json={"body": bulletin}, headers=person.headers),
            201,
        )
        person.posts.append(bulletin)
    for person, other in ((x, y), (y, x)):
        post = f"{base}/posts/{posts[other.user_id]}"
        await _ok(
            await http.post(post + "/reactions", json={"emoji": "🌊"}, headers=person.headers)
        )
        await _ok(
            await http.post(
                post + "/report", json={"reason": "please check"}, headers=person.headers
            ),
            201,
        )
        await _ok(
            await http.post(
                f"{base}/threads/{thread_id}/read", json={"seq": 1}, headers=person.headers
            )
        )
        await _ok(await http.post(f"{base}/bulletin/read", json={"seq": 1}, headers=person.headers))

    # Pages and the journal: X makes and publishes a page; both post, comment, like and read;
    # X puts the page and a post on the public showcase.
    page = await _ok(
        await http.post(f"{base}/pages", json={"title": "Our rivers"}, headers=x.headers), 201
    )
    await _ok(
        await http.patch(
            f"{base}/pages/{page['id']}", json={"state": "published"}, headers=x.headers
        )
    )
    for person in (x, y):  # doc_reads; a search indexes the page's text (doc_texts)
        await _ok(await http.post(f"{base}/pages/{page['id']}/read", headers=person.headers))
        await _ok(await http.post(f"{base}/materials/read", headers=person.headers))
        await _ok(await http.get(f"{base}/search", params={"q": "rivers"}, headers=person.headers))
    journal_posts = []
    for person, other in ((x, y), (y, x)):
        entry = await _ok(
            await http.post(
                f"{base}/journal",
                json={"body": f"{person.username} saw the river"},
                headers=person.headers,
            ),
            201,
        )
        journal_posts.append(entry["id"])
        entry_path = f"{base}/journal/{entry['id']}"
        await _ok(
            await http.post(
                entry_path + "/comments", json={"body": "Lovely!"}, headers=other.headers
            ),
            201,
        )
        await _ok(await http.post(entry_path + "/like", json={"on": True}, headers=other.headers))
        await _ok(
            await http.post(
                f"{base}/journal/read", json={"post_id": entry["id"]}, headers=person.headers
            )
        )
    await _ok(
        await http.patch(
            f"{base}/publishing",
            json={
                "slug": "rivers-showcase",
                "pages": [page["id"]],
                "posts": journal_posts[:1],
                "showcase_on": True,
            },
            headers=x.headers,
        )
    )

    # Materials: an album, a photo from each (with GPS EXIF), the pupils' upload setting.
    album = await make_collection(http, x.headers, project_id, "album")
    photos = []
    for person in (x, y):
        location = await upload(http, person.headers, project_id, album, gps_photo())
        done = await processed(http, person.headers, location)
        assert done["status"] == "done"
        photos.append(done["material_id"])
    # X's photo (approved: X uploads without review) attached to a journal post, a
    # forum reply and a chat message.
    await _ok(
        await http.post(
            f"{base}/journal",
            json={"body": f"{x.username} took a photo", "materials": photos[:1]},
            headers=x.headers,
        ),
        201,
    )
    photo_reply = f"{x.username} shows the photo"
    await _ok(
        await http.post(
            f"{base}/threads/{thread_id}/posts",
            json={"body": photo_reply, "materials": photos[:1]},
            headers=x.headers,
        ),
        201,
    )
    x.posts.append(photo_reply)
    photo_text = f"{x.username} sends the photo"
    await hubs[x.user_id].ok(
        "chat.send", channel="general", text=photo_text, key="photo", materials=photos[:1]
    )
    x.chat.append(photo_text)
    # Each mutes the other (after the last message).
    await hubs[y.user_id].ok("chat.mute", user_id=x.user_id, minutes=5)
    await hubs[x.user_id].ok("chat.mute", user_id=y.user_id, minutes=5)
    await _ok(
        await http.put(
            f"{base}/materials/settings", json={"pupil_uploads": "open"}, headers=x.headers
        )
    )

    # A shared document both edit over y-websocket; X saves a version.
    doc = await _ok(
        await http.post(
            f"{base}/docs",
            json={"name": "river", "title": "River", "kind": "text"},
            headers=x.headers,
        ),
        201,
    )
    for person in (x, y):
        editor = await YjsClient.connect(live.url, project_id, "river", person.token)
        async with asyncio.timeout(WAIT):
            await editor.synced.wait()
        await editor.type(f"[{person.username[:5]} wrote this] ")
        sockets.append(editor)
    async with asyncio.timeout(WAIT):
        while True:
            shown = await http.get(f"{base}/docs/{doc['id']}/content", headers=y.headers)
            if shown.text.count("wrote this") == 2:
                break
            await asyncio.sleep(0.05)
    await _ok(
        await http.post(
            f"{base}/docs/{doc['id']}/versions", json={"name": "draft"}, headers=x.headers
        ),
        201,
    )
    await _store_only(live, project_id, doc["id"], x, y)
    return Seed(
        admin, x, y, project_id, x_project_id, doc["id"], hubs[x.user_id], hubs[y.user_id], sockets
    )


async def _store_only(live: Live, project_id: int, doc_id: int, x: Person, y: Person) -> None:
    """What no member's request writes: a quarantined update, video seats, stale presence."""
    async with live.services.db.transaction() as tx:
        session = VideoSession(project_id=project_id, started_by=x.user_id, max_participants=6)
        tx.add(session)
        await tx.flush()
        assert session.id is not None
        for person, by in ((x, y.user_id), (y, x.user_id)):
            tx.add(
                Participant(
                    session_id=session.id,
                    user_id=person.user_id,
                    display_name=person.display_name,
                    role="teacher_admin",
                    state=ParticipantState.left,
                    mic=True,
                    muted_by=by,
                )
            )
            tx.add(
                DocQuarantine(
                    document_id=doc_id,
                    data=b"\x00\x01",
                    user_id=person.user_id,
                    created_at=datetime.now(UTC),
                    reason="does not apply",
                )
            )
    # A node that crashed leaves its presence entries until their TTL.
    for person in (x, y):
        await live.services.broker.presence_put(
            project_events.topic(project_id),
            f"crashed-{person.user_id}",
            presence.entry(
                f"crashed-{person.user_id}",
                person.user_id,
                person.display_name,
                "teacher_admin",
                "desktop",
                "active",
                {"kind": "home"},
                [],
            ),
            3600,
        )


async def table_counts(live: Live) -> dict[str, int]:
    counts = {}
    async with live.services.db.reader() as tx:
        connection = await tx.connection()
        for table in SQLModel.metadata.sorted_tables:
            counts[table.name] = (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts
