"""Inviting teachers, roles, removals, pupil accounts, and the bad input around them."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import func, select

from tests.support.room import add_teacher, login, make_room
from twinspace_rt.services import Services
from twinspace_rt.storage.models import Membership, User


async def _count(services: Services, model: type) -> int:
    async with services.db.reader() as tx:
        return (await tx.exec(select(func.count()).select_from(model))).one()


async def test_invite_a_teacher_from_another_country(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    await add_teacher(services, "jens", "DK")
    url = f"/api/projects/{room.project_id}/members"
    invited = await client.post(
        url, json={"username": "JENS", "role": "teacher"}, headers=room.headers["teacher_admin"]
    )
    assert invited.status_code == 201
    assert invited.json()["country"] == "DK" and invited.json()["role"] == "teacher"
    again = await client.post(
        url, json={"username": "jens", "role": "expert"}, headers=room.headers["teacher_admin"]
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_member"
    jens = await login(client, "jens")
    assert [
        p["id"] for p in (await client.get("/api/projects", headers=jens)).json()["projects"]
    ] == [room.project_id]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "jens", "role": "superuser"}, 422, "validation_failed"),
        ({"username": "jens", "role": "pupil"}, 422, "role_not_allowed"),
        ({"username": "nobody", "role": "teacher"}, 404, "not_found"),
        ({"username": "jens", "role": "teacher", "admin": True}, 422, "validation_failed"),
        ({"username": 42, "role": "teacher"}, 422, "validation_failed"),
        ({"username": "jens"}, 422, "validation_failed"),
    ],
)
async def test_bad_invitations(
    client: httpx.AsyncClient, services: Services, body: dict, status: int, code: str
) -> None:
    room = await make_room(client, services)
    await add_teacher(services, "jens", "DK")
    before = await _count(services, Membership)
    response = await client.post(
        f"/api/projects/{room.project_id}/members", json=body, headers=room.headers["teacher_admin"]
    )
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert await _count(services, Membership) == before


async def test_pupil_accounts_cannot_be_invited_elsewhere(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services, "a")
    other = await make_room(client, services, "b")
    pupil_username = room.pupil_passwords["pupil"][0]
    response = await client.post(
        f"/api/projects/{other.project_id}/members",
        json={"username": pupil_username, "role": "pupil"},
        headers=other.headers["teacher_admin"],
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "role_not_allowed"


async def test_roles_change_within_the_account_kind(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    admin = room.headers["teacher_admin"]
    base = f"/api/projects/{room.project_id}/members"
    promoted = await client.patch(
        f"{base}/{room.user_ids['pupil']}", json={"role": "pupil_admin"}, headers=admin
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "pupil_admin"
    wrong = await client.patch(
        f"{base}/{room.user_ids['pupil']}", json={"role": "teacher"}, headers=admin
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "role_not_allowed"
    observer = await client.patch(
        f"{base}/{room.user_ids['teacher']}", json={"role": "observer"}, headers=admin
    )
    assert observer.json()["role"] == "observer"
    # The new role takes effect at once for the demoted teacher.
    demoted = await client.get(f"/api/projects/{room.project_id}", headers=room.headers["teacher"])
    assert "doc.edit" not in demoted.json()["permissions"]


async def test_founder_is_protected_and_a_room_keeps_an_admin(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    founder = room.user_ids["teacher_admin"]
    base = f"/api/projects/{room.project_id}/members"
    admin = room.headers["teacher_admin"]
    # Only admin: cannot step down or leave.
    step_down = await client.patch(f"{base}/{founder}", json={"role": "teacher"}, headers=admin)
    assert step_down.status_code == 409 and step_down.json()["error"]["code"] == "last_admin"
    leave = await client.delete(f"{base}/{founder}", headers=admin)
    assert leave.json()["error"]["code"] == "last_admin"
    # A second admin may not demote or remove the founder.
    await client.patch(
        f"{base}/{room.user_ids['teacher']}", json={"role": "teacher_admin"}, headers=admin
    )
    second = room.headers["teacher"]
    for response in (
        await client.patch(f"{base}/{founder}", json={"role": "teacher"}, headers=second),
        await client.delete(f"{base}/{founder}", headers=second),
    ):
        assert (
            response.status_code == 409 and response.json()["error"]["code"] == "founder_protected"
        )
    # The founder may step down once another admin exists.
    assert (
        await client.patch(f"{base}/{founder}", json={"role": "teacher"}, headers=admin)
    ).status_code == 200


async def test_removed_member_loses_access(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    base = f"/api/projects/{room.project_id}"
    removed = await client.delete(
        f"{base}/members/{room.user_ids['expert']}", headers=room.headers["teacher_admin"]
    )
    assert removed.status_code == 204
    response = await client.get(base, headers=room.headers["expert"])
    assert response.status_code == 403
    gone = await client.delete(
        f"{base}/members/{room.user_ids['expert']}", headers=room.headers["teacher_admin"]
    )
    assert gone.status_code == 404


async def test_acting_on_another_projects_member(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services, "a")
    other = await make_room(client, services, "b")
    admin = room.headers["teacher_admin"]
    stranger = other.user_ids["pupil"]
    base = f"/api/projects/{room.project_id}"
    for response in (
        await client.patch(
            f"{base}/members/{stranger}", json={"role": "pupil_admin"}, headers=admin
        ),
        await client.delete(f"{base}/members/{stranger}", headers=admin),
        await client.post(f"{base}/pupils/{stranger}/reset-password", headers=admin),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # And through the other project's URL, this admin is not a member at all.
    response = await client.delete(
        f"/api/projects/{other.project_id}/members/{stranger}", headers=admin
    )
    assert response.status_code == 403


async def test_bulk_pupils_get_logins_once(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    names = ["Çağla Öztürk", "Giulia Rossi", "Jens Ørsted", "Núria Puig", "ليلى"]
    created = await client.post(
        f"/api/projects/{room.project_id}/pupils",
        json={"display_names": names},
        headers=room.headers["teacher_admin"],
    )
    assert created.status_code == 201
    pupils = created.json()["pupils"]
    assert [p["display_name"] for p in pupils] == names
    assert pupils[0]["username"].startswith("cagla.")
    assert pupils[2]["username"].startswith("jens.")
    assert pupils[4]["username"].startswith("pupil.")
    assert len({p["username"] for p in pupils}) == len(names)
    for pupil in pupils:
        signed_in = await client.post(
            "/api/auth/login", json={"username": pupil["username"], "password": pupil["password"]}
        )
        me = signed_in.json()["user"]
        assert me["kind"] == "pupil" and me["must_change_password"] is True
    members = (
        await client.get(
            f"/api/projects/{room.project_id}/members", headers=room.headers["teacher"]
        )
    ).json()
    assert "password" not in str(members)


async def test_a_bad_name_in_a_class_list_creates_nobody(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    before = await _count(services, User)
    for body in (
        {"display_names": ["Ada", "", "Bo"]},
        {"display_names": ["Ada", "x" * 121]},
        {"display_names": ["Ada", "bell\x07"]},
        {"display_names": []},
        {"display_names": ["Ada"] * 201},
        {"display_name": "Ada", "display_names": ["Bo"]},
        {},
    ):
        response = await client.post(
            f"/api/projects/{room.project_id}/pupils",
            json=body,
            headers=room.headers["teacher_admin"],
        )
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_failed"
    assert await _count(services, User) == before


async def test_reset_pupil_password(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    username, old_password = room.pupil_passwords["pupil"]
    url = f"/api/projects/{room.project_id}/pupils/{room.user_ids['pupil']}/reset-password"
    reset = await client.post(url, headers=room.headers["teacher_admin"])
    assert reset.status_code == 200 and reset.json()["username"] == username
    new_password = reset.json()["password"]
    assert new_password != old_password
    # The old password and every token the pupil held stop working.
    assert (
        await client.post("/api/auth/login", json={"username": username, "password": old_password})
    ).status_code == 401
    revoked = await client.get("/api/me", headers=room.headers["pupil"])
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "token_invalid"
    fresh = await login(client, username, new_password)
    changed = await client.post(
        "/api/me/password",
        headers=fresh,
        json={"current_password": new_password, "new_password": "my own secret"},
    )
    assert changed.json()["must_change_password"] is False
    teacher = await client.post(
        f"/api/projects/{room.project_id}/pupils/{room.user_ids['teacher']}/reset-password",
        headers=room.headers["teacher_admin"],
    )
    assert teacher.status_code == 403


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"", "invalid_json"),
        (b'{"name": ""}', "validation_failed"),
        (b'{"name": "   "}', "validation_failed"),
        (b'{"name": 5}', "validation_failed"),
        (b'{"name": "' + b"x" * 121 + b'"}', "validation_failed"),
        (b'{"name": "ok", "owner": 1}', "validation_failed"),
        (b'{"name": "' + b"x" * 300_000 + b'"}', "payload_too_large"),
    ],
)
async def test_malformed_bodies_write_nothing(
    client: httpx.AsyncClient, services: Services, content: bytes, code: str
) -> None:
    await add_teacher(services, "ana")
    headers = {**(await login(client, "ana")), "Content-Type": "application/json"}
    response = await client.post("/api/projects", content=content, headers=headers)
    assert response.json()["error"]["code"] == code
    assert response.status_code in (400, 413, 422)
    assert (await client.get("/api/projects", headers=headers)).json()["projects"] == []
