"""The teachers' reports inbox (issue 17): moderators list chat reports and decide (delete the
message, mute its author, dismiss); the decision and who made it reach every moderator, a
report is decided once, and pupils may neither read the inbox nor decide."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.support.live import Live
from tests.support.room import make_room


async def test_moderators_decide_about_reports_and_see_who_decided(live: Live) -> None:
    room = await make_room(live.http, live.services, "inbox")
    pupil = await connect(live, room, "pupil")
    reporter = await connect(live, room, "pupil_admin")
    admin = await connect(live, room, "teacher_admin")
    colleague = await connect(live, room, "teacher")
    await reporter.ok("chat.subscribe", channels={"pupils": None})
    first = await pupil.ok("chat.send", channel="pupils", text="mean words", key="a")
    second = await pupil.ok("chat.send", channel="pupils", text="more mean words", key="b")
    third = await pupil.ok("chat.send", channel="pupils", text="a joke", key="c")
    ids = [
        (await reporter.ok("chat.report", channel="pupils", seq=sent["seq"], reason="unkind"))[
            "report_id"
        ]
        for sent in (first, second, third)
    ]
    inbox = (await colleague.ok("chat.reports"))["reports"]
    assert [r["id"] for r in inbox] == ids[::-1]
    assert inbox[-1]["text"] == "mean words" and inbox[-1]["author_id"] == room.user_ids["pupil"]
    assert inbox[-1]["resolution"] is None
    assert (await reporter.request("chat.reports"))["code"] == "forbidden"
    refused = await reporter.request("chat.resolve", report_id=ids[0], decision="dismiss")
    assert refused["code"] == "forbidden"

    # Delete: the message becomes a tombstone for its readers; every moderator hears who decided.
    decided = await admin.ok("chat.resolve", report_id=ids[0], decision="delete")
    assert decided["report"]["resolution"] == "deleted"
    assert decided["report"]["resolved_by"] == room.user_ids["teacher_admin"]
    [tombstone] = await reporter.wait_for("chat.message", change="deleted")
    assert tombstone["message"]["seq"] == first["seq"] and tombstone["message"]["deleted"]
    [news] = await colleague.wait_for("chat.report_resolved")
    assert news["report"]["id"] == ids[0] and news["report"]["resolution"] == "deleted"
    again = await colleague.request("chat.resolve", report_id=ids[0], decision="dismiss")
    assert again["code"] == "conflict"

    # Mute: the author cannot send until the mute ends.
    muted = await colleague.ok("chat.resolve", report_id=ids[1], decision="mute", minutes=60)
    assert muted["report"]["resolution"] == "muted"
    refused_send = await pupil.request("chat.send", channel="pupils", text="hi", key="d")
    assert refused_send["code"] == "muted" and 3590 <= refused_send["retry_after"] <= 3601
    no_minutes = await admin.request("chat.resolve", report_id=ids[2], decision="mute")
    assert no_minutes["code"] == "validation_failed"

    # Dismiss: nothing happens to the message; the report is decided.
    await admin.ok("chat.resolve", report_id=ids[2], decision="dismiss")
    history = (await admin.ok("chat.history", channel="pupils"))["messages"]
    assert [m["text"] for m in history if m["seq"] == third["seq"]] == ["a joke"]
    inbox = (await admin.ok("chat.reports"))["reports"]
    assert {r["id"]: r["resolution"] for r in inbox} == {
        ids[0]: "deleted",
        ids[1]: "muted",
        ids[2]: "dismissed",
    }
    log = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    actions = [e["action"] for e in log.json()["entries"]]
    assert actions.count("chat.report_resolved") == 3
    for client in (pupil, reporter, admin, colleague):
        await client.close()
