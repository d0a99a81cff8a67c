"""Signed links for `<img>` and `<video>`: they work without `Authorization`, only for the
variant, member and time they were made for, and only while the member may still see it."""

from __future__ import annotations

from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.support.live import Live
from tests.support.room import Room
from twinspace_rt.materials import links


async def test_a_signed_link_serves_its_variant_to_its_member_only(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    done = await processed(
        live.http,
        teacher,
        await upload(live.http, teacher, room.project_id, album, gps_photo((600, 400)), "p.jpg"),
    )
    base = f"/api/projects/{room.project_id}/materials/{done['material_id']}"
    answer = await live.http.get(f"{base}/links", headers=room.headers["pupil"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["expires_in"] == live.services.settings.materials_link_seconds
    found = answer.json()["variants"]
    assert sorted(found) == ["display", "large", "small"]
    direct = await live.http.get(f"{base}/small", headers=teacher)
    followed = await live.http.get(found["small"])  # no Authorization: as an <img> would
    assert followed.status_code == 200 and followed.content == direct.content
    ranged = await live.http.get(found["display"], headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.content) == 10

    tampered = found["small"][:-1] + ("0" if found["small"][-1] != "0" else "1")
    refused = await live.http.get(tampered)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_invalid"
    other_variant = found["small"].replace("/small?", "/display?")
    assert (await live.http.get(other_variant)).status_code == 401
    assert (await live.http.get(f"{base}/small?user=1&expires=x&signature=y")).status_code == 401

    key = live.services.settings.signing_key
    pupil = room.user_ids["pupil"]
    stale = links.sign(key, room.project_id, done["material_id"], "small", pupil, -1)
    expired = await live.http.get(f"{base}/small?{stale}")
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"

    # Removed from the project: the link made before stops working at once.
    removed = await live.http.delete(
        f"/api/projects/{room.project_id}/members/{pupil}", headers=room.headers["teacher_admin"]
    )
    assert removed.status_code == 204, removed.text
    assert (await live.http.get(found["small"])).status_code == 403
