"""Test helpers that act as a person would: a teacher account, a login, a room with people."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from twinspace_rt.projects import accounts
from twinspace_rt.services import Services
from twinspace_rt.storage.models import User

PASSWORD = "correct horse battery"


async def add_teacher(services: Services, username: str, country: str = "PT") -> int:
    """The way an operator adds one: straight into the store, as `twinspace-rt user add` does."""
    async with services.db.transaction() as tx:
        user = await accounts.create_teacher(tx, username, PASSWORD, username.title(), country)
    assert user.id is not None
    return user.id


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def first_sign_in(
    client: httpx.AsyncClient, username: str, one_time_password: str, new: str = PASSWORD
) -> dict[str, str]:
    """A pupil's first sign-in: the printed password, then their own one (required first)."""
    headers = await login(client, username, one_time_password)
    changed = await client.post(
        "/api/me/password",
        headers=headers,
        json={"current_password": one_time_password, "new_password": new},
    )
    assert changed.status_code == 200, changed.text
    return {"Authorization": f"Bearer {changed.json()['token']}"}


@dataclass
class Room:
    """A project with one member per role, each with their auth headers."""

    project_id: int
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    pupil_passwords: dict[str, tuple[str, str]] = field(default_factory=dict)


async def settle_password(services: Services, user_id: int) -> None:
    """As if the pupil had replaced the printed one-time password already: until then their
    token may do nothing else (tests of that first step use the API itself)."""
    async with services.db.transaction() as tx:
        user = await tx.get(User, user_id)
        assert user is not None
        user.must_change_password = False
        tx.add(user)


def bearer(services: Services, user_id: int) -> dict[str, str]:
    """A token as login would issue it, without paying argon2 for every person of every room."""
    token, _ = services.tokens.issue(user_id, 0)
    return {"Authorization": f"Bearer {token}"}


async def make_room(client: httpx.AsyncClient, services: Services, prefix: str = "r") -> Room:
    admin_id = await add_teacher(services, f"{prefix}-admin", "PT")
    admin = bearer(services, admin_id)
    created = await client.post("/api/projects", json={"name": f"{prefix} project"}, headers=admin)
    assert created.status_code == 201, created.text
    room = Room(project_id=created.json()["id"])
    room.headers["teacher_admin"] = admin
    room.user_ids["teacher_admin"] = admin_id
    base = f"/api/projects/{room.project_id}"
    for role in ("teacher", "expert", "observer"):
        username = f"{prefix}-{role}"
        room.user_ids[role] = await add_teacher(services, username, "PL")
        invited = await client.post(
            f"{base}/members", json={"username": username, "role": role}, headers=admin
        )
        assert invited.status_code == 201, invited.text
        room.headers[role] = bearer(services, room.user_ids[role])
    for role in ("pupil_admin", "pupil"):
        made = await client.post(
            f"{base}/pupils", json={"display_name": f"{prefix} {role}", "role": role}, headers=admin
        )
        assert made.status_code == 201, made.text
        pupil = made.json()["pupils"][0]
        room.user_ids[role] = pupil["user_id"]
        room.pupil_passwords[role] = (pupil["username"], pupil["password"])
        await settle_password(services, pupil["user_id"])
        room.headers[role] = bearer(services, pupil["user_id"])
    return room
