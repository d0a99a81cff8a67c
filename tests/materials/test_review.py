"""Who may do what with materials, per role: pupils' uploads wait for a teacher by default,
the project's setting turns them off or opens them, review actions are audited, an archived
project is read-only, and live pushes reach the right members with gap-free resume."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.chat.test_chat import connect
from tests.materials.support import create, gps_photo, make_collection, processed, uploaded
from tests.support.live import Live
from tests.support.room import Room
from twinspace_rt.storage.material_models import MaterialJob, MaterialUpload
from twinspace_rt.storage.models import utcnow


async def _visible(live: Live, room: Room, who: str) -> set[int]:
    answer = await live.http.get(
        f"/api/projects/{room.project_id}/materials", headers=room.headers[who]
    )
    assert answer.status_code == 200, answer.text
    return {m["id"] for c in answer.json()["collections"] for m in c["materials"]}


async def _settings(live: Live, room: Room, who: str, value: str) -> int:
    answer = await live.http.put(
        f"/api/projects/{room.project_id}/materials/settings",
        json={"pupil_uploads": value},
        headers=room.headers[who],
    )
    return answer.status_code


async def test_the_review_flow_per_role(live: Live, room: Room) -> None:
    base = f"/api/projects/{room.project_id}/materials"
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    for role in ("pupil", "observer", "pupil_admin"):
        made = await live.http.post(
            f"{base}/collections", json={"kind": "album", "title": "x"}, headers=room.headers[role]
        )
        assert made.status_code == 403, role
    reviewers = await connect(live, room, "teacher")
    everyone = await connect(live, room, "pupil_admin")
    await reviewers.ok("materials.subscribe", streams={"materials": 0, "review": 0})
    await everyone.ok("materials.subscribe", streams={"materials": 0})
    refused = await everyone.request("materials.subscribe", streams={"review": 0})
    assert refused["type"] == "error" and refused["code"] == "forbidden"

    # Review is the default: the pupil's photo waits, seen by the uploader and the teachers.
    done = await uploaded(
        live.http, room.headers["pupil"], room.project_id, album, gps_photo(), "mine.jpg"
    )
    pending = done["material_id"]
    assert pending in await _visible(live, room, "pupil")
    assert pending in await _visible(live, room, "teacher")
    for role in ("pupil_admin", "observer", "expert"):
        assert pending not in await _visible(live, room, role)
        hidden = await live.http.get(f"{base}/{pending}/small", headers=room.headers[role])
        assert hidden.status_code == 404
    await reviewers.wait_for("materials.review.changed")
    queue = await live.http.get(f"{base}/review", headers=teacher)
    assert [m["id"] for m in queue.json()["materials"]] == [pending]
    for role in ("pupil", "pupil_admin", "expert", "observer"):
        verdict = await live.http.post(
            f"{base}/{pending}/review", json={"verdict": "approve"}, headers=room.headers[role]
        )
        assert verdict.status_code == 403, role
    approved = await live.http.post(
        f"{base}/{pending}/review", json={"verdict": "approve"}, headers=teacher
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    pushed = await everyone.wait_for("materials.material.created")
    assert pushed[0]["material"]["id"] == pending and pushed[0]["stream"] == "materials"
    assert pending in await _visible(live, room, "observer")
    # Observers upload (as in TwinSpace), straight in.
    observed = await uploaded(
        live.http, room.headers["observer"], room.project_id, album, gps_photo((30, 30)), "o.jpg"
    )
    assert observed["material_id"] in await _visible(live, room, "pupil")

    # A rejected upload is gone for everyone; a reported one is in the audit log.
    second = (
        await uploaded(
            live.http, room.headers["pupil"], room.project_id, album, gps_photo((20, 20)), "b.jpg"
        )
    )["material_id"]
    rejected = await live.http.post(
        f"{base}/{second}/review", json={"verdict": "reject"}, headers=teacher
    )
    assert rejected.status_code == 200
    assert second not in await _visible(live, room, "pupil")
    reported = await live.http.post(
        f"{base}/{pending}/report", json={"reason": "a face"}, headers=room.headers["pupil_admin"]
    )
    assert reported.status_code == 204
    audit = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    actions = [e["action"] for e in audit.json()["entries"]]
    assert {"materials.approve", "materials.reject", "materials.report"} <= set(actions)

    # `off`: pupils may not upload; `open`: straight in. Only reviewers change it.
    assert await _settings(live, room, "expert", "open") == 403
    assert await _settings(live, room, "teacher", "off") == 200
    off = await create(live.http, room.headers["pupil"], room.project_id, album, 100)
    assert off.status_code == 403 and off.json()["error"]["code"] == "forbidden"
    assert await _settings(live, room, "teacher", "open") == 200
    opened = (
        await uploaded(
            live.http, room.headers["pupil"], room.project_id, album, gps_photo((10, 10)), "c.jpg"
        )
    )["material_id"]
    assert opened in await _visible(live, room, "observer")
    # An album closed to pupils refuses them whatever the setting.
    closed = await live.http.patch(
        f"{base}/collections/{album}", json={"pupils_may_upload": False}, headers=teacher
    )
    assert closed.status_code == 200
    assert (
        await create(live.http, room.headers["pupil"], room.project_id, album, 100)
    ).status_code == 403

    # Deleting: managers any material (audited), and the bytes go with the last user of them.
    deleted = await live.http.delete(f"{base}/{opened}", headers=room.headers["expert"])
    assert deleted.status_code == 204
    assert opened not in await _visible(live, room, "teacher")
    assert (
        await live.http.delete(f"{base}/{pending}", headers=room.headers["pupil"])
    ).status_code == 403

    # A resuming socket replays exactly what it missed.
    held = max(p["seq"] for p in everyone.pushes if p.get("stream") == "materials")
    await everyone.close()
    retitled = await live.http.patch(
        f"{base}/{pending}", json={"title": "Our trip"}, headers=teacher
    )
    assert retitled.status_code == 200
    back = await connect(live, room, "pupil_admin")
    ack = await back.ok("materials.subscribe", streams={"materials": held})
    assert ack["streams"]["materials"]["recovered"] is True
    replayed = await back.wait_for("materials.material.changed")
    assert replayed[0]["material"]["title"] == "Our trip" and replayed[0]["seq"] > held
    assert [p["seq"] for p in back.pushes if p.get("stream") == "materials"] == list(
        range(held + 1, replayed[0]["seq"] + 1)
    )


async def test_an_archived_project_is_read_only_for_materials(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    done = await uploaded(live.http, teacher, room.project_id, album, gps_photo(), "a.jpg")
    archived = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": "archived"},
        headers=room.headers["teacher_admin"],
    )
    assert archived.status_code == 200
    refused = await create(live.http, teacher, room.project_id, album, 100)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "read_only"
    base = f"/api/projects/{room.project_id}/materials"
    assert (
        await live.http.delete(f"{base}/{done['material_id']}", headers=teacher)
    ).status_code == 403
    assert (
        await live.http.get(f"{base}/{done['material_id']}/small", headers=room.headers["pupil"])
    ).status_code == 200


async def test_closing_a_project_removes_its_blobs(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    await uploaded(live.http, teacher, room.project_id, album, gps_photo(), "a.jpg")
    unfinished = await create(live.http, teacher, room.project_id, album, 5000)
    assert unfinished.status_code == 201
    store = live.services.materials.store
    assert await store.keys(f"projects/{room.project_id}/")
    closed = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": "closed"},
        headers=room.headers["teacher_admin"],
    )
    assert closed.status_code == 200
    assert await store.keys(f"projects/{room.project_id}/") == []
    overview = await live.http.get(
        f"/api/projects/{room.project_id}/materials", headers=room.headers["teacher_admin"]
    )
    assert overview.json()["collections"] == []


async def test_a_job_left_running_by_a_crashed_worker_is_taken_again(
    live: Live, room: Room
) -> None:
    """The state a crash leaves: the job `running` under a lease nobody renews. Once the
    lease is over, a worker (here, this node's) claims and finishes it."""
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    await live.services.materials.jobs.stop()  # this node's workers are "dead" for now
    created = await create(live.http, teacher, room.project_id, album, len(photo := gps_photo()))
    location = created.headers["Location"]
    from tests.materials.support import patch

    assert (await patch(live.http, teacher, location, 0, photo)).status_code == 204
    upload_id = location.rsplit("/", 1)[1]
    async with live.services.db.transaction() as tx:
        await tx.exec(
            update(MaterialJob)
            .where(MaterialJob.upload_id == upload_id)
            .values(status="running", attempts=1, lease_until=utcnow() - timedelta(seconds=1))
        )
        row = await tx.get(MaterialUpload, upload_id)
        assert row is not None and row.status == "complete"
    live.services.materials.jobs.start()
    done = await processed(live.http, teacher, location)
    assert done["status"] == "done"
