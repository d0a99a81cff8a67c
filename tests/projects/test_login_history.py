"""Login history: each sign-in and failed sign-in of an account, seen by the member and, for a
pupil, by a teacher administrator of their project; kept `retention_login_days`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from tests.support.live import Live, serve
from tests.support.room import PASSWORD, make_room
from twinspace_rt.privacy import retention
from twinspace_rt.settings import Settings
from twinspace_rt.storage.login_models import LoginEvent

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


async def sign_in(live: Live, username: str, password: str, agent: str, **headers: str) -> int:
    answer = await live.http.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"User-Agent": agent, **headers},
    )
    return answer.status_code


async def test_sign_ins_and_failures_are_recorded_coarsely_and_shown_to_the_member(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"login_max_failures": 2})
    async with serve(limited) as live:
        room = await make_room(live.http, live.services)
        teacher = "r-teacher"
        assert await sign_in(live, teacher, PASSWORD, FIREFOX) == 200
        assert await sign_in(live, teacher, "wrong", PHONE) == 401
        assert await sign_in(live, teacher, "wrong", PHONE) == 401
        # The throttle now refuses before the password is looked at: recorded as such.
        assert await sign_in(live, teacher, PASSWORD, PHONE) == 429
        # A name nobody has belongs to nobody: nothing is recorded.
        assert await sign_in(live, "nobody-at-all", "x", PHONE) == 401

        mine = await live.http.get("/api/me/logins", headers=room.headers["teacher"])
        assert mine.status_code == 200
        body = mine.json()
        assert body["kept_days"] == 90
        seen = [(e["outcome"], e["client"], e["address"]) for e in body["logins"]]
        assert seen == [
            ("throttled", "Chrome Mobile on Android", "127.0.0.1"),
            ("failed", "Chrome Mobile on Android", "127.0.0.1"),
            ("failed", "Chrome Mobile on Android", "127.0.0.1"),
            ("ok", "Firefox on Windows", "127.0.0.1"),
        ]
        # Only the account's own: another member's list holds none of these.
        others = await live.http.get("/api/me/logins", headers=room.headers["expert"])
        assert others.json()["logins"] == []
        events = LoginEvent.__table__  # type: ignore[attr-defined]
        async with live.services.db.reader() as tx:
            rows = (await (await tx.connection()).execute(events.select())).all()
        assert len(rows) == 4


async def test_the_address_is_the_one_the_trusted_proxy_gives(settings: Settings) -> None:
    behind = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    async with serve(behind) as live:
        room = await make_room(live.http, live.services)
        pupil = room.pupil_passwords["pupil"][0]
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        assert await sign_in(live, pupil, "wrong", FIREFOX, **forwarded) == 401
        shown = await live.http.get("/api/me/logins", headers=room.headers["pupil"])
        assert [e["address"] for e in shown.json()["logins"]] == ["203.0.113.9"]


async def test_a_teacher_administrator_sees_a_pupils_history_and_no_one_elses(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "o")
    assert await sign_in(live, room.pupil_passwords["pupil"][0], "wrong", FIREFOX) == 401
    assert await sign_in(live, "r-teacher", "wrong", FIREFOX) == 401
    base = f"/api/projects/{room.project_id}/members"
    pupil = f"{base}/{room.user_ids['pupil']}/logins"
    seen = await live.http.get(pupil, headers=room.headers["teacher_admin"])
    assert seen.status_code == 200
    assert [e["outcome"] for e in seen.json()["logins"]] == ["failed"]
    # A teacher's sign-ins are their own.
    teacher = await live.http.get(
        f"{base}/{room.user_ids['teacher']}/logins", headers=room.headers["teacher_admin"]
    )
    assert teacher.status_code == 404 and teacher.json()["error"]["code"] == "not_found"
    # Nobody else in the room, and no one from another project.
    for role in ("teacher", "pupil_admin", "pupil", "expert", "observer"):
        refused = await live.http.get(pupil, headers=room.headers[role])
        assert refused.status_code == 403, role
    across = await live.http.get(
        f"/api/projects/{other.project_id}/members/{room.user_ids['pupil']}/logins",
        headers=other.headers["teacher_admin"],
    )
    assert across.status_code == 404


async def test_retention_removes_entries_older_than_the_setting(live: Live) -> None:
    room = await make_room(live.http, live.services)
    for _ in range(3):
        assert await sign_in(live, "r-teacher", "wrong", FIREFOX) == 401
    events = LoginEvent.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    async with live.services.db.transaction() as tx:
        connection = await tx.connection()
        first = (await connection.execute(events.select().order_by(events.c.id))).first()
        assert first is not None
        await connection.execute(
            update(events).where(events.c.id == first.id).values(at=now - timedelta(days=91))
        )

    async def nothing() -> None:
        return None

    node = live.services
    report = await retention.run(
        node.db, node.settings, node.privacy.store, "test", now + timedelta(hours=2), nothing
    )
    assert report.ran and report.removed["login_events"] == 1
    left = await live.http.get("/api/me/logins", headers=room.headers["teacher"])
    assert len(left.json()["logins"]) == 2
