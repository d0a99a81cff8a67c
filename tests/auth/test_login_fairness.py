"""Sign-in fairness (issue 17): a pupil's typing mistakes slow that pupil down, from that
address, for a growing while; the teacher beside them and the school's address are not
locked out; the count is shared between nodes through Redis; a teacher can unlock a pupil."""

from __future__ import annotations

import uuid

import httpx
from starlette.applications import Starlette

from tests.support.room import PASSWORD, add_teacher, make_room
from tests.support.services import require_shared_redis
from twinspace_rt.app import create_app
from twinspace_rt.auth.login_throttle import LoginThrottle, ThrottleLimits
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings

SCHOOL = ("198.51.100.7", 1)
LIMITS = ThrottleLimits(
    max_failures=5, window=300, first_delay=30, max_delay=900, address_max_failures=1000
)


def _from(app: Starlette, address: tuple[str, int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=address), base_url="http://t"
    )


async def _try(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", json={"username": username, "password": password})


async def test_the_teacher_signs_in_after_a_pupils_five_failures_from_the_same_address(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services, "fair")
    pupil, _ = room.pupil_passwords["pupil"]
    async with _from(app, SCHOOL) as school:
        for _ in range(5):
            assert (await _try(school, pupil, "typo")).status_code == 401
        # The pupil's sixth try waits, and the message says how many minutes...
        waiting = await _try(school, pupil, "typo")
        assert waiting.status_code == 429
        error = waiting.json()["error"]
        assert error["code"] == "rate_limited"
        assert int(waiting.headers["Retry-After"]) == error["retry_after"]
        assert 1 <= error["retry_after"] <= 30
        assert "1 minute" in error["message"]
        # ...while the teacher at the next desk, same public address, signs in.
        assert (await _try(school, "fair-teacher", PASSWORD)).status_code == 200
    # Whoever typed the pupil's name elsewhere did not lock the pupil out of home.
    async with _from(app, ("192.0.2.44", 1)) as home:
        assert (await _try(home, pupil, "typo")).status_code == 401


async def test_the_delay_grows_with_each_further_failure() -> None:
    assert [LIMITS.pair_wait(n, 0) for n in (4, 5, 6, 7, 12)] == [0, 30, 60, 120, 900]
    throttle = LoginThrottle(LIMITS)
    for _ in range(5):
        await throttle.record_failure("ana", "198.51.100.7")
    first = await throttle.retry_after("ana", "198.51.100.7")
    await throttle.record_failure("ana", "198.51.100.7")
    second = await throttle.retry_after("ana", "198.51.100.7")
    assert first is not None and second is not None and 30 < second <= 60 and first <= 30
    assert await throttle.retry_after("ana", "192.0.2.1") is None
    assert await throttle.retry_after("bo", "198.51.100.7") is None


async def test_one_address_has_a_ceiling_fit_for_a_school(settings: Settings) -> None:
    """Many usernames guessed from one address stop at the address's ceiling, not at five."""
    app = create_app(settings.model_copy(update={"login_address_max_failures": 12}))
    async with app.router.lifespan_context(app), _from(app, SCHOOL) as school:
        statuses = [(await _try(school, f"pupil{n}", "x")).status_code for n in range(13)]
        assert statuses == [401] * 12 + [429]


async def test_a_teacher_unlocks_a_pupil(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services, "unl")
    pupil, _ = room.pupil_passwords["pupil"]
    async with _from(app, SCHOOL) as school:
        for _ in range(5):
            await _try(school, pupil, "typo")
        assert (await _try(school, pupil, "typo")).status_code == 429
        base = f"/api/projects/{room.project_id}/pupils"
        # A pupil may not unlock others; a teacher may not unlock a teacher this way.
        refused = await client.post(
            f"{base}/{room.user_ids['pupil']}/unlock", headers=room.headers["pupil"]
        )
        assert refused.status_code == 403
        teacher = await client.post(
            f"{base}/{room.user_ids['teacher']}/unlock", headers=room.headers["teacher_admin"]
        )
        assert teacher.status_code == 403
        unlocked = await client.post(
            f"{base}/{room.user_ids['pupil']}/unlock", headers=room.headers["teacher_admin"]
        )
        assert unlocked.status_code == 204
        assert (await _try(school, pupil, "typo")).status_code == 401
    audit = await client.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    assert "pupil.unlock" in [entry["action"] for entry in audit.json()["entries"]]


async def test_nodes_share_the_count_through_redis(settings: Settings) -> None:
    url = await require_shared_redis()
    prefix = f"test-{uuid.uuid4().hex}"
    one, two = LoginThrottle(LIMITS, url, prefix), LoginThrottle(LIMITS, url, prefix)
    try:
        for node in (one, two, one, two, one):
            await node.record_failure("ana", "198.51.100.7")
        wait = await two.retry_after("ana", "198.51.100.7")
        assert wait is not None and 1 <= wait <= 30
        assert await one.retry_after("ana", "192.0.2.1") is None
        await two.unlock("ana")
        assert await one.retry_after("ana", "198.51.100.7") is None
    finally:
        await one.close()
        await two.close()


async def test_a_redis_configured_server_counts_there(settings: Settings) -> None:
    url = await require_shared_redis()
    shared = settings.model_copy(
        update={"redis_url": url, "redis_prefix": f"test-{uuid.uuid4().hex}"}
    )
    first, second = create_app(shared), create_app(shared)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        async with _from(first, SCHOOL) as a, _from(second, SCHOOL) as b:
            for node in (a, b, a, b, a):
                assert (await _try(node, "nobody", "x")).status_code == 401
            assert (await _try(b, "nobody", "x")).status_code == 429


async def test_unknown_usernames_are_counted_like_known_ones(
    app: Starlette, services: Services
) -> None:
    await add_teacher(services, "maria")
    async with _from(app, SCHOOL) as school:
        for name in ("maria", "ghost"):
            for _ in range(5):
                assert (await _try(school, name, "nope")).status_code == 401
            assert (await _try(school, name, "nope")).status_code == 429
