"""Shared documents: the Yjs socket with pycrdt clients, permissions, bad input, REST."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Text

from tests.support.live import Live, serve
from tests.support.room import Room, make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.documents import codec
from twinspace_rt.settings import Settings


def token(room: Room, role: str) -> str:
    return room.headers[role]["Authorization"].removeprefix("Bearer ")


NAMES = {"pupil": "r pupil", "teacher": "R-Teacher", "observer": "R-Observer"}


def bound(room: Room, role: str, state: dict) -> dict:
    """An awareness state as others see it: named after the member who sent it."""
    user = {**(state.get("user") if isinstance(state.get("user"), dict) else {})}
    user.update(name=NAMES[role], id=room.user_ids[role])
    return {**state, **({"name": NAMES[role]} if "name" in state else {}), "user": user}


async def new_doc(live: Live, room: Room, name: str = "story", kind: str = "text") -> dict:
    created = await live.http.post(
        f"/api/projects/{room.project_id}/docs",
        json={"name": name, "title": name.title(), "kind": kind},
        headers=room.headers["teacher"],
    )
    assert created.status_code == 201, created.text
    return created.json()


async def open_doc(live: Live, room: Room, role: str, name: str = "story") -> YjsClient:
    client = await YjsClient.connect(live.url, room.project_id, name, token(room, role))
    async with asyncio.timeout(WAIT):
        await client.synced.wait()
    return client


async def content(live: Live, room: Room, doc_id: int, fmt: str = "text") -> str:
    got = await live.http.get(
        f"/api/projects/{room.project_id}/docs/{doc_id}/content?format={fmt}",
        headers=room.headers["pupil"],
    )
    assert got.status_code == 200, got.text
    return got.text


async def stored_text(live: Live, room: Room, doc_id: int, expected: str) -> None:
    """Waits (bounded) until the store holds `expected`: a sender gets no acknowledgement."""
    async with asyncio.timeout(WAIT):
        while await content(live, room, doc_id) != expected:
            await asyncio.sleep(0.02)


async def test_two_editors_converge_and_the_log_holds_every_update(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    pupil = await open_doc(live, room, "pupil")
    teacher = await open_doc(live, room, "teacher")
    for i in range(20):
        await pupil.type(f"p{i} ")
        await teacher.type(f"t{i} ")
    expected_len = sum(len(f"p{i} ") + len(f"t{i} ") for i in range(20))
    for client in (pupil, teacher):
        await client.until(lambda c=client: len(str(c.text)) == expected_len)
    assert str(pupil.text) == str(teacher.text)
    # Every update was stored before it was relayed: the store already has the same text.
    assert await content(live, room, doc["id"]) == str(pupil.text)
    # A latecomer is answered from the loaded document.
    late = await open_doc(live, room, "expert")
    assert str(late.text) == str(pupil.text)
    listed = await live.http.get(
        f"/api/projects/{room.project_id}/docs", headers=room.headers["observer"]
    )
    [entry] = listed.json()["documents"]
    assert entry["last_edited_by"] in (room.user_ids["pupil"], room.user_ids["teacher"])
    for client in (pupil, teacher, late):
        await client.close()


async def test_offline_edits_flow_back_on_reconnect(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    first = await open_doc(live, room, "pupil")
    await first.type("online ")
    await first.until(lambda: True)
    await first.close()
    offline = first.doc
    offline.get("content", type=Text).insert(0, "offline ")
    other = await open_doc(live, room, "teacher")
    await other.type("meanwhile ")
    back = await YjsClient.connect(
        live.url, room.project_id, "story", token(room, "pupil"), offline
    )
    await back.until(lambda: "meanwhile" in str(back.text))
    await other.until(lambda: "offline" in str(other.text))
    assert str(back.text) == str(other.text)
    await stored_text(live, room, doc["id"], str(other.text))


async def test_a_read_only_socket_is_answered_but_its_updates_refused(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    writer = await open_doc(live, room, "pupil")
    await writer.type("hello")
    observer = await open_doc(live, room, "observer")
    await observer.until(lambda: str(observer.text) == "hello")
    await observer.type(" from the observer")
    await observer.until(lambda: len(observer.denials) == 1)
    assert observer.denials[0].startswith("forbidden")
    await writer.type(" world")
    await observer.until(lambda: " world" in str(observer.text))
    assert "observer" not in str(writer.text)
    await stored_text(live, room, doc["id"], "hello world")
    # Awareness still flows both ways for a reader, under the reader's own name.
    await observer.set_cursor({"user": "observer", "cursor": 3})
    seen = bound(room, "observer", {"user": "observer", "cursor": 3})
    await writer.until(lambda: seen in writer.others().values())


async def test_an_archived_project_is_read_only_on_the_socket(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    archived = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": "archived"},
        headers=room.headers["teacher_admin"],
    )
    assert archived.status_code == 200
    pupil = await open_doc(live, room, "pupil")
    await pupil.type("late homework")
    await pupil.until(lambda: len(pupil.denials) == 1)
    assert await content(live, room, doc["id"]) == ""
    assert pupil.denials[0].startswith("read_only")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (codec.update_message(b"\x05garbage-update"), 4422),
        (b"\x00\x02\xff\xff", 4422),  # truncated varint in the length
        (b"\x00\x02\x10abc", 4422),  # a length running past the frame
        (b"\x07", 4422),  # unknown message type
        (codec.update_message(b"\x00\x00") + b"\x00", 4422),  # two messages in one frame
        (codec.awareness_message(b"\x01\x01\x01\x03{x}"), 4422),  # state is not JSON
        (codec.awareness_message(b"\x01\x01\x01" + b"\x80\x80\x01" + b" " * 16384), 4413),
        (b"\x00\x02" + b"\x01" * (4 * 1024 * 1024), 4413),  # over the message limit
    ],
)
async def test_bad_input_closes_the_sender_and_the_room_carries_on(
    live: Live, frame: bytes, code: int
) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    bystander = await open_doc(live, room, "teacher")
    await bystander.type("before ")
    sender = await open_doc(live, room, "pupil")
    await sender.send(frame)
    assert await sender.closed() == code
    await bystander.type("after")
    await stored_text(live, room, doc["id"], "before after")
    assert len(live.services.documents.by_id[doc["id"]].connections) == 1


async def test_awareness_is_relayed_to_everyone_and_removed_on_close(live: Live) -> None:
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    alone = await open_doc(live, room, "pupil")
    await alone.set_cursor({"name": "Ana", "cursor": 3})
    before = len(alone.frames)
    # Relayed back to the sender too: a lone client otherwise reconnects every 30 s.
    await alone.until(lambda: len(alone.frames) > before)
    assert codec.decode(alone.frames[-1]).type is codec.MessageType.awareness
    other = await open_doc(live, room, "teacher")
    ana = bound(room, "pupil", {"name": "Ana", "cursor": 3})
    await other.until(lambda: ana in other.others().values())
    # Query awareness (type 3) is answered with every known state.
    before = len(other.frames)
    await other.send(codec.query_awareness())
    await other.until(lambda: len(other.frames) > before)
    answer = codec.decode(other.frames[before])
    assert answer.type is codec.MessageType.awareness
    assert b'"r pupil"' in answer.payload and b'"Ana"' not in answer.payload
    await alone.close()
    await other.until(lambda: not other.others())


async def test_echoed_awareness_of_a_full_class_is_nobody_s_flood(live: Live) -> None:
    """Stock clients re-send every awareness change they hear; twelve editors are no flood."""
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    editors = [await open_doc(live, room, "pupil") for _ in range(12)]
    for number, editor in enumerate(editors):
        await editor.set_cursor({"name": f"pupil {number}"})
    echoer = editors[0]
    await echoer.until(lambda: len(echoer.others()) == 11)
    everyone = echoer.awareness.encode_awareness_update(list(echoer.awareness.states))
    await echoer.send(codec.awareness_message(everyone))
    await echoer.type("still here")
    await editors[1].until(lambda: str(editors[1].text) == "still here")
    # The echoer leaving takes its own cursor only, not the ones it echoed.
    await echoer.close()
    watcher = editors[1]
    await watcher.until(lambda: echoer.doc.client_id not in watcher.awareness.states)
    assert len(watcher.others()) == 10
    assert all(editor.close_code is None for editor in editors[1:])


async def test_an_update_sent_just_before_closing_is_stored_and_relayed(live: Live) -> None:
    """What a socket sent before it closed is read, stored and relayed: a push to a socket whose
    peer had left used to end its reader, dropping the updates still waiting to be read."""
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    watcher = await open_doc(live, room, "teacher")
    for attempt in range(5):
        leaver = await open_doc(live, room, "pupil")
        for word in ("one ", "two ", "three "):
            await leaver.type(f"{attempt}:{word}")
        await leaver.socket.close()
    expected = sorted(f"{a}:{w}" for a in range(5) for w in ("one", "two", "three"))
    try:
        await watcher.until(lambda: sorted(str(watcher.text).split()) == expected)
    except TimeoutError:
        raise AssertionError(f"the watcher has {watcher.text}") from None
    stored = await content(live, room, doc["id"])
    assert sorted(stored.split()) == expected


async def test_updates_relayed_together_reach_everyone_but_their_senders(live: Live) -> None:
    """Updates committed in one batch go out in one write per socket: each socket still gets
    every other editor's updates, in order, and never its own."""
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    editors = [await open_doc(live, room, "pupil") for _ in range(3)]
    watcher = await open_doc(live, room, "teacher")
    sent: dict[int, list[bytes]] = {i: [] for i in range(3)}
    for round_ in range(10):
        updates = await asyncio.gather(*(e.type(f"{i}.{round_} ") for i, e in enumerate(editors)))
        for i, update in enumerate(updates):
            sent[i].append(update)
    words = sorted(f"{i}.{r}" for i in range(3) for r in range(10))
    for client in [*editors, watcher]:
        await client.until(lambda c=client: sorted(str(c.text).split()) == words)
    for i, editor in enumerate(editors):
        received = [
            codec.decode(frame).payload
            for frame in editor.frames
            if codec.decode(frame).type is codec.MessageType.sync
        ]
        assert not set(sent[i]) & set(received), "an editor was sent its own update"


async def test_an_echoed_awareness_state_is_not_relayed_again(live: Live) -> None:
    """Relaying echoes would cost a class of 50 editors 49 x 50 frames per cursor renewal."""
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    author, echoer, watcher = [await open_doc(live, room, "pupil") for _ in range(3)]
    await author.set_cursor({"name": "Ana", "cursor": 1})
    first = bound(room, "pupil", {"name": "Ana", "cursor": 1})
    await watcher.until(lambda: first in watcher.others().values())
    await echoer.until(lambda: first in echoer.others().values())
    seen = len(watcher.frames)
    echo = echoer.awareness.encode_awareness_update([author.doc.client_id])
    await echoer.send(codec.awareness_message(echo))
    await echoer.type("after the echo")  # the same socket, so handled after the echo
    await watcher.until(lambda: str(watcher.text) == "after the echo")
    kinds = [codec.decode(frame).type for frame in watcher.frames[seen:]]
    assert codec.MessageType.awareness not in kinds
    # News is still relayed, to everyone, the sender included.
    mine = len(author.frames)
    await author.set_cursor({"name": "Ana", "cursor": 2})
    second = bound(room, "pupil", {"name": "Ana", "cursor": 2})
    await watcher.until(lambda: second in watcher.others().values())
    await author.until(
        lambda: (
            codec.MessageType.awareness
            in [codec.decode(frame).type for frame in author.frames[mine:]]
        )
    )


async def test_the_socket_refuses_strangers_and_missing_documents(live: Live) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "o")
    await new_doc(live, room)
    stranger = await YjsClient.connect(live.url, room.project_id, "story", token(other, "teacher"))
    assert await stranger.closed() == 4403
    missing = await YjsClient.connect(live.url, room.project_id, "nope", token(room, "teacher"))
    assert await missing.closed() == 4404
    anonymous = await YjsClient.connect(live.url, room.project_id, "story", None)
    assert await anonymous.closed() == 4401
    forged = await YjsClient.connect(live.url, room.project_id, "story", "x.y.z")
    assert await forged.closed() == 4401


async def test_rest_update_is_stored_and_relayed_live(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    editor = await open_doc(live, room, "pupil")
    source: Doc = Doc()
    source.get("content", type=Text).insert(0, "imported by a bot")
    base = f"/api/projects/{room.project_id}/docs/{doc['id']}"
    posted = await live.http.post(
        base + "/update", content=source.get_update(), headers=room.headers["teacher"]
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"stored": True}
    await editor.until(lambda: str(editor.text) == "imported by a bot")
    bad = await live.http.post(base + "/update", content=b"\x09junk", headers=room.headers["pupil"])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_update"
    refused = await live.http.post(
        base + "/update", content=source.get_update(), headers=room.headers["observer"]
    )
    assert refused.status_code == 403
    binary = await live.http.get(base + "/content?format=update", headers=room.headers["pupil"])
    replica: Doc = Doc()
    replica.apply_update(binary.content)
    assert str(replica.get("content", type=Text)) == "imported by a bot"
    import base64

    sv = base64.urlsafe_b64encode(replica.get_state()).decode()
    nothing_new = await live.http.get(
        base + f"/content?format=update&sv={sv}", headers=room.headers["pupil"]
    )
    assert len(nothing_new.content) < len(binary.content)


async def test_rich_text_content_in_every_format(live: Live) -> None:
    from pycrdt import XmlElement, XmlText

    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room, "notes", kind="richtext")
    editor = await open_doc(live, room, "pupil", "notes")

    def write(_: Doc) -> None:
        heading = editor.fragment.children.append(XmlElement("heading", {"level": "2"}))
        heading.children.append(XmlText("Rivers"))
        paragraph = editor.fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText("The Tagus <flows> west"))
        text.format(4, 9, {"bold": True})
        # As y-prosemirror stores marks: attributes objects; an unsafe link stays plain text.
        marks = editor.fragment.children.append(XmlElement("paragraph"))
        linked = marks.children.append(XmlText("See map or this"))
        linked.format(0, 3, {"italic": {}})
        linked.format(4, 7, {"link": {"href": "https://maps.example/tagus"}})
        linked.format(11, 15, {"link": {"href": "javascript:alert(1)"}})

    await editor.edit(write)
    await stored_text(live, room, doc["id"], "Rivers\nThe Tagus <flows> west\nSee map or this")
    assert await content(live, room, doc["id"], "markdown") == (
        "## Rivers\n\nThe **Tagus** \\<flows\\> west\n\n"
        "_See_ [map](https://maps.example/tagus) or this\n"
    )
    assert await content(live, room, doc["id"], "html") == (
        "<h2>Rivers</h2><p>The <strong>Tagus</strong> &lt;flows&gt; west</p>"
        '<p><em>See</em> <a href="https://maps.example/tagus" rel="nofollow noopener">map</a>'
        " or this</p>"
    )
    as_json = await content(live, room, doc["id"], "json")
    assert '"type": "heading", "attrs": {"level": "2"}' in as_json
    wrong = await live.http.get(
        f"/api/projects/{room.project_id}/docs/{doc['id']}/content?format=pdf",
        headers=room.headers["pupil"],
    )
    assert wrong.status_code == 422


async def test_document_catalogue_rules(live: Live) -> None:
    room = await make_room(live.http, live.services)
    base = f"/api/projects/{room.project_id}/docs"
    made = await new_doc(live, room)
    twin = await live.http.post(
        base, json={"name": "story", "title": "Again"}, headers=room.headers["teacher"]
    )
    assert twin.status_code == 409
    for role in ("pupil", "observer", "expert"):
        refused = await live.http.post(
            base, json={"name": f"x-{role}", "title": "X"}, headers=room.headers[role]
        )
        assert refused.status_code == 403, role
    bad_name = await live.http.post(
        base, json={"name": "../etc", "title": "X"}, headers=room.headers["teacher"]
    )
    assert bad_name.status_code == 422
    renamed = await live.http.patch(
        f"{base}/{made['id']}",
        json={"name": "river-story", "title": "River story"},
        headers=room.headers["pupil_admin"],
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["socket"] == f"/yjs/{room.project_id}/river-story"
    editor = await open_doc(live, room, "pupil", "river-story")
    deleted = await live.http.delete(f"{base}/{made['id']}", headers=room.headers["teacher"])
    assert deleted.status_code == 204
    assert await editor.closed() == 4404
    assert (await live.http.get(base, headers=room.headers["pupil"])).json()["documents"] == []
    again = await new_doc(live, room, "river-story")
    assert again["id"] != made["id"]
    audit = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    actions = [e["action"] for e in audit.json()["entries"]]
    assert {"doc.create", "doc.update", "doc.delete"} <= set(actions)


async def test_room_changes_reach_open_document_sockets(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    expert = await open_doc(live, room, "expert")
    pupil = await open_doc(live, room, "pupil")
    await pupil.type("before ")
    removed = await live.http.delete(
        f"/api/projects/{room.project_id}/members/{room.user_ids['expert']}",
        headers=room.headers["teacher_admin"],
    )
    assert removed.status_code == 204
    assert await expert.closed() == 4403
    archived = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": "archived"},
        headers=room.headers["teacher_admin"],
    )
    assert archived.status_code == 200
    async with asyncio.timeout(WAIT):
        while True:  # the socket stays open; its next update is refused as read-only
            await pupil.type("x")
            if pupil.denials:
                break
            await asyncio.sleep(0.05)
    assert pupil.denials[-1].startswith("read_only")
    stored = await content(live, room, doc["id"])
    assert stored.startswith("before ") and len(stored) < len(str(pupil.text))


async def test_an_awareness_flood_closes_the_flooder_only(settings: Settings) -> None:
    # One message per 100 s after the burst: however slow the machine, none refills in between.
    strict = settings.model_copy(update={"docs_rate_per_second": 0.01, "docs_rate_burst": 20})
    async with serve(strict) as live:
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        calm = await open_doc(live, room, "teacher")
        flooder = await open_doc(live, room, "pupil")
        for i in range(200):
            try:
                await flooder.set_cursor({"i": i})
            except Exception:
                break
        assert await flooder.closed() == 4429
        await calm.type("still here")
        await stored_text(live, room, doc["id"], "still here")


async def test_a_socket_cannot_speak_for_another_socket_s_cursor(live: Live) -> None:
    """A newer clock for someone else's client id would replace their cursor: not relayed."""
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    teacher, pupil, watcher = [
        await open_doc(live, room, r) for r in ("teacher", "pupil", "expert")
    ]
    await teacher.set_cursor({"user": {"name": "Ms. Sousa"}, "cursor": 1})
    real = bound(room, "teacher", {"user": {"name": "Ms. Sousa"}, "cursor": 1})
    await watcher.until(lambda: real in watcher.others().values())
    await pupil.until(lambda: real in pupil.others().values())
    forged = codec.encode_awareness(
        [codec.AwarenessEntry(teacher.doc.client_id, 99, '{"cursor": 7, "user": {"name": "x"}}')]
    )
    await pupil.send(codec.awareness_message(forged))
    await pupil.set_cursor({"cursor": 5})  # handled after the forgery, on the same socket
    mine = bound(room, "pupil", {"cursor": 5})
    await watcher.until(lambda: mine in watcher.others().values())
    assert watcher.awareness.states[teacher.doc.client_id] == real


async def test_an_awareness_state_with_a_lone_surrogate_is_relayed_escaped(live: Live) -> None:
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    sender, watcher = [await open_doc(live, room, r) for r in ("pupil", "teacher")]
    state = '{"cursor": "\\ud800"}'
    payload = codec.encode_awareness([codec.AwarenessEntry(sender.doc.client_id, 1, state)])
    await sender.send(codec.awareness_message(payload))
    await watcher.until(lambda: sender.doc.client_id in watcher.awareness.states)
    assert watcher.awareness.states[sender.doc.client_id]["cursor"] == "\ud800"
    assert sender.close_code is None
