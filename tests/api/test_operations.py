"""Health, readiness, metrics, the OpenAPI document, and errors for unknown paths."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from tests.support.room import add_teacher, login
from twinspace_rt.app import ENDPOINTS, create_app
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "blob_store": "ok"},
    }


async def test_readiness_reflects_an_unreachable_database(settings: Settings) -> None:
    """A node whose database is gone answers 503, so the balancer stops sending it work."""
    lost = create_app(
        settings.model_copy(
            update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/none"}
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lost), base_url="http://t"
    ) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
    await lost.state.services.db.close()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "broker": "ok", "blob_store": "ok"},
    }


async def test_readiness_reflects_an_unreachable_blob_store(settings: Settings) -> None:
    """A node whose S3 endpoint does not answer cannot store or serve materials: 503."""
    lost = create_app(
        settings.model_copy(
            update={
                "s3_endpoint_url": "http://127.0.0.1:9",
                "s3_access_key": "any",
                "s3_secret_key": SecretStr("any"),
            }
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lost), base_url="http://t"
    ) as client:
        response = await client.get("/readyz")
    await lost.state.services.materials.store.close()
    await lost.state.services.db.close()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "ok", "blob_store": "unreachable"},
    }


async def test_metrics_count_requests_and_errors(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_teacher(services, "ana")
    await login(client, "ana")
    await client.post("/api/auth/login", json={"username": "ana", "password": "wrong"})
    await client.get("/api/projects/12345", headers=await login(client, "ana"))
    text = (await client.get("/metrics")).text
    assert (
        'twinspace_http_requests_total{method="POST",route="/api/auth/login",status="200"} 2.0'
        in text
    )
    assert (
        'twinspace_http_requests_total{method="POST",route="/api/auth/login",status="401"} 1.0'
        in text
    )
    assert 'route="/api/projects/{project_id:int}",status="404"' in text
    assert 'twinspace_errors_total{code="invalid_credentials"} 1.0' in text
    assert "twinspace_http_request_seconds_bucket" in text


async def test_unknown_paths_and_methods_use_the_error_format(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = await client.put("/api/projects")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


async def test_openapi_document_covers_every_endpoint(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    for endpoint in ENDPOINTS:
        path = endpoint.path.replace(":int}", "}")
        operation = document["paths"][path][endpoint.method.lower()]
        assert operation["summary"]
        assert str(endpoint.status) in operation["responses"]
    schemas = document["components"]["schemas"]
    login = document["paths"]["/api/auth/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/LoginIn"
    )
    assert "401" in login["responses"] and "429" in login["responses"]
    assert schemas["ProjectCreateIn"]["additionalProperties"] is False
    assert schemas["ProjectOut"]["properties"]["role"]
    for schema in schemas.values():
        for ref in _refs(schema):
            assert ref.split("/")[-1] in schemas, ref


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []
