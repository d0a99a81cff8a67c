"""Sessions and headers: a password change ends the other sessions, absurd tokens are refused,
every response carries the security headers, and forwarded addresses come only from proxies."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest

from tests.documents.test_documents import new_doc, stored_text
from tests.support.live import HubClient, Live, serve
from tests.support.room import PASSWORD, Room, make_room
from tests.support.yjs_client import YjsClient
from twinspace_rt.settings import Settings


async def _login(live: Live, username: str, password: str = PASSWORD) -> str:
    response = await live.http.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _hub(live: Live, project_id: int, token: str) -> HubClient:
    client = await HubClient.connect(live.url, project_id, token)
    await client.wait_for("presence.state")
    return client


async def _yjs(live: Live, room: Room, token: str) -> YjsClient:
    client = await YjsClient.connect(live.url, room.project_id, "story", token)
    await client.until(client.synced.is_set)
    return client


async def test_a_password_change_ends_every_other_session(live: Live) -> None:
    """The teacher is in two rooms and signed in twice (two devices). Changing the password on
    the first ends the second everywhere: REST, hub sockets in both rooms, the Yjs socket. The
    first goes on: its sockets stay open, and the response gives it a fresh token."""
    first_room = await make_room(live.http, live.services, "a")
    second_room = await make_room(live.http, live.services, "b")
    invited = await live.http.post(
        f"/api/projects/{second_room.project_id}/members",
        json={"username": "a-teacher", "role": "teacher"},
        headers=second_room.headers["teacher_admin"],
    )
    assert invited.status_code == 201, invited.text
    doc = await new_doc(live, first_room)
    kept, ended = await _login(live, "a-teacher"), await _login(live, "a-teacher")
    kept_hub = await _hub(live, second_room.project_id, kept)
    kept_doc = await _yjs(live, first_room, kept)
    ended_hubs = [await _hub(live, room.project_id, ended) for room in (first_room, second_room)]
    ended_doc = await _yjs(live, first_room, ended)

    changed = await live.http.post(
        "/api/me/password",
        headers=_auth(kept),
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["username"] == "a-teacher"
    fresh = changed.json()["token"]

    for hub in ended_hubs:
        assert await hub.closed() == 4401
    assert await ended_doc.closed() == 4401
    revoked = await live.http.get("/api/me", headers=_auth(ended))
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "token_invalid"
    # The session that made the change: its sockets carry on, its new token works, and the
    # token it used is replaced by that one.
    await kept_hub.ok("ping")
    await kept_doc.type("still here")
    await stored_text(live, first_room, doc["id"], "still here")
    assert (await live.http.get("/api/me", headers=_auth(fresh))).status_code == 200
    assert (await live.http.get("/api/me", headers=_auth(kept))).status_code == 401
    after = await _hub(live, first_room.project_id, fresh)
    await after.ok("ping")
    # A later re-check (any room change) still finds the kept sockets in order.
    await live.http.patch(
        f"/api/projects/{first_room.project_id}",
        json={"description": "rivers"},
        headers=first_room.headers["teacher_admin"],
    )
    await kept_hub.ok("ping")
    await kept_doc.type(" and here")
    await stored_text(live, first_room, doc["id"], "still here and here")
    await after.ok("ping")


ABSURD_EXPIRIES = [10**30, 1e300, float("inf"), 2**63, -(10**30), True, "soon"]


def _forged(settings: Settings, user_id: int, exp: object) -> str:
    claims = {"iss": "twinspace-rt", "sub": str(user_id), "gen": 0, "exp": exp}
    return jwt.encode(claims, settings.signing_key, algorithm="HS256")


@pytest.mark.parametrize("exp", ABSURD_EXPIRIES, ids=repr)
async def test_an_absurd_expiry_is_a_401_not_a_crash(
    live: Live, settings: Settings, exp: object
) -> None:
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    token = _forged(settings, room.user_ids["teacher"], exp)
    response = await live.http.get("/api/me", headers=_auth(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in ("token_invalid", "token_expired")
    hub = await HubClient.connect(live.url, room.project_id, token)
    assert await hub.closed() == 4401
    [error] = hub.of_type("error")
    assert error["code"] in ("token_invalid", "token_expired")
    doc = await YjsClient.connect(live.url, room.project_id, "story", token)
    assert await doc.closed() == 4401


def _policy(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";"))}


def _common_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert _policy(response)["frame-ancestors"] == "frame-ancestors 'none'"


async def test_security_headers_on_the_client_and_on_rendered_html(
    settings: Settings, tmp_path: Path
) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>t</title>")
    async with serve(settings.model_copy(update={"web_dir": web})) as live:
        room = await make_room(live.http, live.services)
        page = await live.http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        _common_headers(page)
        client = _policy(page)
        # Only the bundle's own files run: no inline script, no other origin.
        assert client["script-src"] == "script-src 'self'"
        assert client["default-src"] == "default-src 'self'"
        assert "'unsafe-inline'" not in client["style-src"]

        doc = await new_doc(live, room)
        html = await live.http.get(
            f"/api/projects/{room.project_id}/docs/{doc['id']}/content?format=html",
            headers=room.headers["pupil"],
        )
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        _common_headers(html)
        rendered = _policy(html)
        assert rendered["default-src"] == "default-src 'none'" and "sandbox" in rendered
        # Refusals and data carry them too.
        refused = await live.http.get("/api/me")
        assert refused.status_code == 401
        _common_headers(refused)
        assert "sandbox" in _policy(refused)


async def _failed_logins(
    live: Live, count: int, forwarded: list[str], who: str = "nobody"
) -> list[int]:
    """Each attempt names another username, so only the per-address count can refuse."""
    statuses = []
    for attempt in range(count):
        response = await live.http.post(
            "/api/auth/login",
            json={"username": f"{who}{attempt}", "password": "wrong password"},
            headers={"X-Forwarded-For": forwarded[attempt % len(forwarded)]},
        )
        statuses.append(response.status_code)
    return statuses


async def test_rotating_x_forwarded_for_does_not_bypass_the_login_throttle(
    settings: Settings,
) -> None:
    """uvicorn alone trusts X-Forwarded-For from 127.0.0.1, so a client there could give each
    attempt a new address. Without `trusted_proxies` the peer's own address is counted."""
    limited = settings.model_copy(update={"login_address_max_failures": 2})
    rotating = [f"203.0.113.{n}" for n in range(1, 10)]
    async with serve(limited) as live:
        assert await _failed_logins(live, 4, rotating) == [401, 401, 429, 429]


async def test_a_listed_proxy_names_the_client(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"login_address_max_failures": 2, "trusted_proxies": ["127.0.0.1"]}
    )
    async with serve(limited) as live:
        # Each client behind the proxy is counted on its own...
        assert await _failed_logins(live, 4, [f"203.0.113.{n}" for n in range(1, 10)]) == [401] * 4
        # ...and one client is throttled whatever the others do.
        assert await _failed_logins(live, 3, ["198.51.100.7"], "someone") == [401, 401, 429]
