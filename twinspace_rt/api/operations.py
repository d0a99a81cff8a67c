"""What an operator and a load balancer ask: is it up, is it ready, how is it doing."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.http import Endpoint, respond, services
from twinspace_rt.api.schemas import StatusOut

log = logging.getLogger(__name__)

# An S3 endpoint that does not answer must not hold the balancer's probe for minutes.
BLOB_STORE_TIMEOUT = 5.0


async def healthz(request: Request) -> Response:
    return respond(StatusOut(status="ok"))


async def readyz(request: Request) -> Response:
    """Ready only when every dependency answers now, not when it once did."""
    checks: dict[str, str] = {}
    try:
        await services(request).db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readiness: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    checks["broker"] = services(request).broker.status()
    try:
        async with asyncio.timeout(BLOB_STORE_TIMEOUT):
            await services(request).materials.store.ping()
        checks["blob_store"] = "ok"
    except Exception as exc:  # as above: not ready, and why goes to the log
        log.warning("readiness: blob store unreachable: %s", exc)
        checks["blob_store"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return respond(
        StatusOut(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
    )


async def metrics(request: Request) -> Response:
    return Response(generate_latest(services(request).metrics), media_type=CONTENT_TYPE_LATEST)


ENDPOINTS = [
    Endpoint("GET", "/healthz", healthz, "The process is up.", response=StatusOut, public=True),
    Endpoint(
        "GET",
        "/readyz",
        readyz,
        "Every dependency is reachable (503 otherwise).",
        response=StatusOut,
        public=True,
    ),
    Endpoint("GET", "/metrics", metrics, "Prometheus text exposition.", public=True),
]
