"""Logging in, tokens (ours and the identity platform's), registration, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from tests.support.room import PASSWORD, add_teacher, login
from twinspace_rt.app import create_app
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings


async def test_login_returns_a_token_that_opens_me(
    client: httpx.AsyncClient, services: Services
) -> None:
    user_id = await add_teacher(services, "maria", "IT")
    response = await client.post(
        "/api/auth/login", json={"username": "Maria", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": user_id,
        "username": "maria",
        "display_name": "Maria",
        "kind": "teacher",
        "country": "IT",
        "must_change_password": False,
    }
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == str(user_id)
    assert 3590 <= claims["exp"] - claims["iat"] <= 3600
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["username"] == "maria"


@pytest.mark.parametrize(
    ("username", "password"), [("maria", "wrong password"), ("nobody", PASSWORD)]
)
async def test_wrong_credentials(
    client: httpx.AsyncClient, services: Services, username: str, password: str
) -> None:
    await add_teacher(services, "maria")
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_repeated_failures_slow_that_username_from_that_address(
    client: httpx.AsyncClient, app: Starlette, services: Services
) -> None:
    await add_teacher(services, "maria")
    for _ in range(5):
        failed = await client.post(
            "/api/auth/login", json={"username": "maria", "password": "nope"}
        )
        assert failed.status_code == 401
    # The right password from the same address waits out the delay...
    blocked = await client.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 30
    assert blocked.json()["error"]["retry_after"] == int(blocked.headers["Retry-After"])
    # ...but whoever guessed cannot lock Maria out everywhere.
    elsewhere = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.44", 1)), base_url="http://t"
    )
    async with elsewhere:
        signed_in = await elsewhere.post(
            "/api/auth/login", json={"username": "maria", "password": PASSWORD}
        )
    assert signed_in.status_code == 200


async def test_repeated_failures_are_rate_limited_per_address(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"login_address_max_failures": 5}))
    async with app.router.lifespan_context(app):
        await add_teacher(app.state.services, "maria")
        attacker = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 1)),
            base_url="http://t",
        )
        school = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("198.51.100.7", 1)),
            base_url="http://t",
        )
        async with attacker, school:
            for i in range(5):
                await attacker.post(
                    "/api/auth/login", json={"username": f"guess{i}", "password": "x"}
                )
            blocked = await attacker.post(
                "/api/auth/login", json={"username": "maria", "password": PASSWORD}
            )
            assert blocked.status_code == 429
            # Another address is not punished for the attacker's guesses.
            assert (
                await school.post(
                    "/api/auth/login", json={"username": "maria", "password": PASSWORD}
                )
            ).status_code == 200


async def test_missing_expired_and_tampered_tokens(
    client: httpx.AsyncClient, services: Services, settings: Settings
) -> None:
    user_id = await add_teacher(services, "maria")
    assert (await client.get("/api/me")).json()["error"]["code"] == "unauthenticated"
    now = datetime.now(UTC)
    expired = jwt.encode(
        {
            "iss": "twinspace-rt",
            "sub": str(user_id),
            "gen": 0,
            "iat": now - timedelta(hours=2),
            "exp": now - timedelta(hours=1),
        },
        settings.signing_key,
        algorithm="HS256",
    )
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"
    headers = await login(client, "maria")
    token = headers["Authorization"].split()[1]
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    for bad in (
        tampered,
        "not-a-jwt",
        jwt.encode(
            {"sub": str(user_id), "exp": now + timedelta(hours=1), "iss": "twinspace-rt"},
            "another-secret-of-enough-length-000",
            algorithm="HS256",
        ),
    ):
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "token_invalid"


async def test_token_in_query_parameter_is_refused_on_rest(
    client: httpx.AsyncClient, services: Services
) -> None:
    """Only WebSocket handshakes take ``?token=``: in a REST URL it would reach logs and
    ``Referer`` headers. Refused even beside a valid header, so no client comes to rely on it."""
    await add_teacher(services, "maria")
    headers = await login(client, "maria")
    token = headers["Authorization"].split()[1]
    for sent in ({}, headers):
        response = await client.get(f"/api/me?token={token}", headers=sent)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_in_query"
    assert (await client.get("/api/me", headers=headers)).status_code == 200


async def test_registration_is_closed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", json={"username": "newteacher", "password": "long enough pw"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_closed"


async def test_open_registration(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"open_registration": True}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        body = {
            "username": "selin",
            "password": "long enough pw",
            "display_name": "Selin Kaya",
            "country": "tr",
        }
        created = await client.post("/api/auth/register", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["user"]["kind"] == "teacher"
        assert created.json()["user"]["country"] == "TR"
        again = await client.post("/api/auth/register", json=body)
        assert again.status_code == 409 and again.json()["error"]["code"] == "username_taken"
        short = await client.post("/api/auth/register", json={"username": "x", "password": "short"})
        assert short.status_code == 422
        fields = {d["field"] for d in short.json()["error"]["details"]}
        assert fields == {"username", "password"}


async def test_change_password(client: httpx.AsyncClient, services: Services) -> None:
    await add_teacher(services, "maria")
    headers = await login(client, "maria")
    wrong = await client.post(
        "/api/me/password",
        headers=headers,
        json={"current_password": "nope", "new_password": "a new password"},
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    ok = await client.post(
        "/api/me/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "a new password"},
    )
    assert ok.status_code == 200
    assert (
        await client.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    ).status_code == 401
    await login(client, "maria", "a new password")


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def test_external_identity_platform_tokens(settings: Settings) -> None:
    private, public = _rsa_pair()
    platform = settings.model_copy(
        update={
            "external_jwt_issuer": "https://identity.example.eu",
            "external_jwt_audience": "twinspace-rt",
            "external_jwt_public_key": public,
        }
    )
    app = create_app(platform)
    now = datetime.now(UTC)
    claims = {
        "iss": "https://identity.example.eu",
        "aud": "twinspace-rt",
        "sub": "teacher-4711",
        "preferred_username": "giulia",
        "name": "Giulia Rossi",
        "country": "it",
        "iat": now,
        "exp": now + timedelta(minutes=10),
    }
    good = jwt.encode(claims, private, algorithm="RS256")
    other_audience = jwt.encode({**claims, "aud": "elsewhere"}, private, algorithm="RS256")
    forged_private, _ = _rsa_pair()
    forged = jwt.encode(claims, forged_private, algorithm="RS256")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        first = await client.get("/api/me", headers={"Authorization": f"Bearer {good}"})
        assert first.status_code == 200, first.text
        assert first.json()["username"] == "giulia"
        assert first.json()["display_name"] == "Giulia Rossi"
        assert first.json()["country"] == "IT"
        second = await client.get("/api/me", headers={"Authorization": f"Bearer {good}"})
        assert second.json()["id"] == first.json()["id"], "the same person is one account"
        project = await client.post(
            "/api/projects",
            json={"name": "Platform project"},
            headers={"Authorization": f"Bearer {good}"},
        )
        assert project.status_code == 201
        for bad in (other_audience, forged):
            refused = await client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_invalid"
