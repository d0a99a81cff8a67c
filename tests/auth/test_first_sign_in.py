"""The printed one-time password is replaced at the first sign-in (issue 17): until then, the
server lets that account's token do one thing only, change the password, over REST and
sockets alike."""

from __future__ import annotations

from tests.support.live import HubClient, Live
from tests.support.room import PASSWORD, make_room


async def test_a_one_time_password_only_opens_the_password_change(live: Live) -> None:
    room = await make_room(live.http, live.services, "otp")
    reset = await live.http.post(
        f"/api/projects/{room.project_id}/pupils/{room.user_ids['pupil']}/reset-password",
        headers=room.headers["teacher_admin"],
    )
    username, printed = reset.json()["username"], reset.json()["password"]
    signed_in = await live.http.post(
        "/api/auth/login", json={"username": username, "password": printed}
    )
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["must_change_password"] is True
    token = signed_in.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", "/api/me"),
        ("GET", "/api/projects"),
        ("GET", f"/api/projects/{room.project_id}/channels"),
        ("POST", f"/api/projects/{room.project_id}/pupils/{room.user_ids['pupil']}/unlock"),
    ):
        refused = await live.http.request(method, path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "password_change_required", path
    # Sockets refuse too, with the close code of a refusal.
    hub = await HubClient.connect(live.url, room.project_id, token)
    assert await hub.closed() == 4403
    assert "one-time password" in hub.close_reason
    # The one thing allowed: the new password; then everything else opens again.
    changed = await live.http.post(
        "/api/me/password",
        headers=headers,
        json={"current_password": printed, "new_password": "my own secret"},
    )
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    fresh = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert (await live.http.get("/api/me", headers=fresh)).status_code == 200
    hub = await HubClient.connect(live.url, room.project_id, changed.json()["token"])
    try:
        await hub.ok("ping")
    finally:
        await hub.close()
    # The printed sheet no longer opens anything.
    stale = await live.http.post(
        "/api/auth/login", json={"username": username, "password": printed}
    )
    assert stale.status_code == 401


async def test_the_new_password_must_differ_from_the_printed_one(live: Live) -> None:
    room = await make_room(live.http, live.services, "same")
    reset = await live.http.post(
        f"/api/projects/{room.project_id}/pupils/{room.user_ids['pupil']}/reset-password",
        headers=room.headers["teacher_admin"],
    )
    username, printed = reset.json()["username"], reset.json()["password"]
    token = (
        await live.http.post("/api/auth/login", json={"username": username, "password": printed})
    ).json()["token"]
    same = await live.http.post(
        "/api/me/password",
        headers={"Authorization": f"Bearer {token}"},
        json={"current_password": printed, "new_password": printed},
    )
    assert same.status_code == 422 and same.json()["error"]["code"] == "validation_failed"
    assert PASSWORD != printed
