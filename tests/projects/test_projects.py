"""Founding projects, who sees which, and what archiving and closing do."""

from __future__ import annotations

import httpx

from tests.support.room import add_teacher, login, make_room
from twinspace_rt.auth.policy import Action, Role
from twinspace_rt.services import Services


async def test_teacher_founds_a_project_and_is_its_admin(
    client: httpx.AsyncClient, services: Services
) -> None:
    founder = await add_teacher(services, "ana", "PT")
    headers = await login(client, "ana")
    created = await client.post(
        "/api/projects",
        json={"name": "  Water Stories  ", "description": "Rivers\nand seas"},
        headers=headers,
    )
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "Water Stories"
    assert project["description"] == "Rivers\nand seas"
    assert project["status"] == "active"
    assert project["founder_id"] == founder
    assert project["role"] == "teacher_admin"
    assert set(project["permissions"]) == {a.value for a in Action} - {"chat.pupil_channel"}
    mine = await client.get("/api/projects", headers=headers)
    assert [p["id"] for p in mine.json()["projects"]] == [project["id"]]
    members = await client.get(f"/api/projects/{project['id']}/members", headers=headers)
    assert [(m["username"], m["role"], m["is_founder"]) for m in members.json()["members"]] == [
        ("ana", "teacher_admin", True)
    ]


async def test_pupil_sees_only_their_own_project(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services, "one")
    other = await make_room(client, services, "two")
    pupil = room.headers["pupil"]
    mine = await client.get("/api/projects", headers=pupil)
    assert [p["id"] for p in mine.json()["projects"]] == [room.project_id]
    assert mine.json()["projects"][0]["role"] == "pupil"
    elsewhere = await client.get(f"/api/projects/{other.project_id}", headers=pupil)
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "forbidden"
    members = await client.get(f"/api/projects/{other.project_id}/members", headers=pupil)
    assert members.status_code == 403
    missing = await client.get("/api/projects/999999", headers=pupil)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_pupils_cannot_found_projects(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    response = await client.post(
        "/api/projects", json={"name": "Mine"}, headers=room.headers["pupil"]
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert (
        len((await client.get("/api/projects", headers=room.headers["pupil"])).json()["projects"])
        == 1
    )


async def test_only_teacher_admins_change_a_project(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    url = f"/api/projects/{room.project_id}"
    for role in ("teacher", "expert", "observer", "pupil_admin", "pupil"):
        response = await client.patch(url, json={"name": "Hijacked"}, headers=room.headers[role])
        assert response.status_code == 403, role
        assert response.json()["error"]["code"] == "forbidden"
    renamed = await client.patch(
        url, json={"name": "Renamed"}, headers=room.headers["teacher_admin"]
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


async def test_archived_project_is_read_only_everywhere(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    admin = room.headers["teacher_admin"]
    url = f"/api/projects/{room.project_id}"
    archived = await client.patch(url, json={"status": "archived"}, headers=admin)
    assert archived.status_code == 200
    assert set(archived.json()["permissions"]) == {
        "project.view",
        "project.manage",
        # Access and erasure requests are answered about archived projects too (issue 19).
        "privacy.manage",
        "audit.read",
        "chat.read",
        "chat.read_pupil_channel",
        "chat.staff_room",
        "forum.read",
        "bulletin.read",
        "doc.read",
        "page.read",
        "page.read_drafts",
        "page.read_staff",
        "journal.read",
        "materials.read",
    }
    await add_teacher(services, "late", "DK")
    invite = await client.post(
        f"{url}/members", json={"username": "late", "role": "teacher"}, headers=admin
    )
    assert invite.status_code == 403 and invite.json()["error"]["code"] == "read_only"
    pupils = await client.post(f"{url}/pupils", json={"display_name": "Late Pupil"}, headers=admin)
    assert pupils.json()["error"]["code"] == "read_only"
    renamed = await client.patch(url, json={"name": "Renamed while archived"}, headers=admin)
    assert renamed.status_code == 403 and renamed.json()["error"]["code"] == "read_only"
    # Everyone can still read.
    for role, headers in room.headers.items():
        assert (await client.get(url, headers=headers)).status_code == 200, role
        assert (await client.get(f"{url}/members", headers=headers)).status_code == 200, role
    pupil_view = (await client.get(url, headers=room.headers["pupil"])).json()
    assert pupil_view["permissions"] == [
        "project.view",
        "chat.read",
        "chat.pupil_channel",
        "forum.read",
        "doc.read",
        "page.read",
        "journal.read",
        "materials.read",
    ]
    reopened = await client.patch(url, json={"status": "active"}, headers=admin)
    assert reopened.status_code == 200 and reopened.json()["status"] == "active"


async def test_closed_project_admits_only_teacher_admins(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    url = f"/api/projects/{room.project_id}"
    closed = await client.patch(
        url, json={"status": "closed"}, headers=room.headers["teacher_admin"]
    )
    assert closed.status_code == 200
    for role in ("teacher", "expert", "observer", "pupil_admin", "pupil"):
        response = await client.get(url, headers=room.headers[role])
        assert response.status_code == 403 and response.json()["error"]["code"] == "project_closed"
        listed = await client.get("/api/projects", headers=room.headers[role])
        assert listed.json()["projects"] == [], role
    assert (await client.get(url, headers=room.headers["teacher_admin"])).status_code == 200


async def test_project_changes_are_audited(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    url = f"/api/projects/{room.project_id}"
    await client.patch(url, json={"status": "archived"}, headers=room.headers["teacher_admin"])
    log = await client.get(f"{url}/audit?limit=3", headers=room.headers["teacher"])
    assert log.status_code == 200
    entries = log.json()["entries"]
    assert entries[0]["action"] == "project.update"
    assert entries[0]["details"] == {"status": "archived"}
    assert [e["action"] for e in entries[1:]] == ["pupil.create", "pupil.create"]
    older = await client.get(
        f"{url}/audit?before={log.json()['next_before']}", headers=room.headers["teacher"]
    )
    actions = [e["action"] for e in older.json()["entries"]]
    assert actions == ["member.invite"] * 3 + ["project.create"]
    assert older.json()["next_before"] is None
    for role in ("pupil", "pupil_admin", "observer", "expert"):
        denied = await client.get(f"{url}/audit", headers=room.headers[role])
        assert denied.status_code == 403, role
    bad = await client.get(f"{url}/audit?limit=0", headers=room.headers["teacher"])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"


async def test_every_role_against_every_rest_action(
    client: httpx.AsyncClient, services: Services
) -> None:
    """Each REST write, tried by each role: allowed exactly where the table says."""
    room = await make_room(client, services)
    url = f"/api/projects/{room.project_id}"
    expectations = {
        Role.teacher_admin: True,
        Role.teacher: False,
        Role.expert: False,
        Role.observer: False,
        Role.pupil_admin: False,
        Role.pupil: False,
    }
    target = await client.post(
        f"{url}/pupils", json={"display_name": "Target"}, headers=room.headers["teacher_admin"]
    )
    target_id = target.json()["pupils"][0]["user_id"]
    for number, (role, allowed) in enumerate(expectations.items()):
        headers = room.headers[role.value]
        await add_teacher(services, f"guest{number}", "TR")
        results = {
            "project.manage": await client.patch(
                url, json={"description": role.value}, headers=headers
            ),
            "members.manage": await client.post(
                f"{url}/members",
                json={"username": f"guest{number}", "role": "observer"},
                headers=headers,
            ),
            "pupils.create": await client.post(
                f"{url}/pupils", json={"display_name": f"P{number}"}, headers=headers
            ),
            "pupils.reset": await client.post(
                f"{url}/pupils/{target_id}/reset-password", headers=headers
            ),
        }
        for action, response in results.items():
            assert (response.status_code < 300) is allowed, (role, action, response.text)
            if not allowed:
                assert response.json()["error"]["code"] == "forbidden"
