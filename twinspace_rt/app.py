"""The application factory: routes, error rendering, metrics, and the node's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from twinspace_rt import observability
from twinspace_rt.api import (
    accounts,
    activity,
    chat,
    documents,
    forums,
    journal,
    material_files,
    materials,
    members,
    operations,
    pages,
    posts,
    privacy,
    projects,
    search,
    showcase,
    tus,
)
from twinspace_rt.api.http import Endpoint, error_response
from twinspace_rt.api.metrics import HttpMetrics, MetricsMiddleware
from twinspace_rt.api.openapi import openapi_document
from twinspace_rt.api.security_headers import SecurityHeadersMiddleware
from twinspace_rt.documents.socket import yjs_socket
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import hub_socket
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings
from twinspace_rt.storage.migrate import current_revision, head_revision, upgrade
from twinspace_rt.web import WEB_ROUTE, web_client_route
from twinspace_rt.ws.handshake import Gate

log = logging.getLogger(__name__)

ENDPOINTS: list[Endpoint] = (
    operations.ENDPOINTS
    + accounts.ENDPOINTS
    + projects.ENDPOINTS
    + members.ENDPOINTS
    + chat.ENDPOINTS
    + documents.ENDPOINTS
    + forums.ENDPOINTS
    + posts.ENDPOINTS
    + pages.ENDPOINTS
    + journal.ENDPOINTS
    + showcase.ENDPOINTS
    + activity.ENDPOINTS
    + search.ENDPOINTS
    + privacy.ENDPOINTS
    + materials.ENDPOINTS
    + material_files.ENDPOINTS
    + tus.ENDPOINTS
)

_HTTP_CODES = {
    400: ErrorCode.invalid_json,
    401: ErrorCode.unauthenticated,
    403: ErrorCode.forbidden,
    404: ErrorCode.not_found,
    405: ErrorCode.method_not_allowed,
    413: ErrorCode.payload_too_large,
}


def create_app(settings: Settings) -> Starlette:
    services = Services.build(settings)
    document = openapi_document(ENDPOINTS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _prepare_database(services)
        await services.broker.start()
        await services.hub.start()
        await services.documents.start()
        await services.privacy.start()
        try:
            yield
        finally:
            await services.privacy.stop()
            await services.documents.stop()
            await services.hub.stop()
            await services.admissions.close()
            await services.broker.close()
            await services.throttle.close()
            await services.db.close()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        http_metrics.errors.labels(exc.code.value).inc()
        if exc.status < 500:
            observability.refused("http", exc.code)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.internal_error)
        return await app_error(request, AppError(code, f"{request.url.path}: {exc.detail}"))

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await app_error(request, AppError(ErrorCode.internal_error))

    routes: list[BaseRoute] = [endpoint.route() for endpoint in ENDPOINTS]
    routes.append(Route("/openapi.json", openapi, methods=["GET"]))
    routes.append(WebSocketRoute("/ws/projects/{project_id:int}", hub_socket))
    routes.append(WebSocketRoute("/yjs/{project_id:int}/{doc_name}", yjs_socket))
    routes.append(web_client_route(settings.web_dir))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(SecurityHeadersMiddleware, web_route=WEB_ROUTE),
        ],
        exception_handlers={AppError: app_error, HTTPException: http_error, Exception: crash},
        lifespan=lifespan,
    )
    http_metrics = HttpMetrics(services.metrics)
    app.state.services = services
    # What the WebSocket endpoints need, without reaching up to the composition.
    app.state.hub = services.hub
    app.state.documents = services.documents
    app.state.gate = Gate(services.admissions, settings.allowed_origins, services.sockets)
    app.state.http_metrics = http_metrics
    return app


async def _prepare_database(services: Services) -> None:
    """Embedded SQLite upgrades itself; a shared PostgreSQL is upgraded by its operator."""
    if services.settings.is_sqlite:
        await upgrade(services.db)
        return
    current = await current_revision(services.db)
    if current != head_revision():
        raise RuntimeError(
            f"database schema is at {current}, code expects {head_revision()}: "
            "run `twinspace-rt db upgrade`"
        )
