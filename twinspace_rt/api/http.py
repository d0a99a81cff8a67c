"""How an HTTP endpoint is declared, reads its body, finds its caller and answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from twinspace_rt.auth.bearer import from_header
from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.auth.tokens import ExternalIdentity
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import events as project_events
from twinspace_rt.projects import membership
from twinspace_rt.projects.accounts import user_for_token
from twinspace_rt.services import Services
from twinspace_rt.storage.models import Project, User

BODY_MAX = 256 * 1024

Handler = Callable[[Request], Awaitable[Response]]
InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True)
class Endpoint:
    """One operation: its route and its OpenAPI entry come from this single declaration."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[ErrorCode, ...] = ()
    public: bool = False
    query: dict[str, str] = field(default_factory=dict)
    # Query parameters that are text rather than integers, and a raw (non-JSON) request body.
    text_query: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None

    @property
    def budgeted(self) -> bool:
        """Writes by a signed-in member spend that member's budget (``auth/write_budget.py``)."""
        return self.method in WRITE_METHODS and not self.public

    def route(self) -> Route:
        handler = _charged(self.handler) if self.budgeted else self.handler
        return Route(self.path, handler, methods=[self.method])


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _charged(handler: Handler) -> Handler:
    """Charges the caller before any work; a request without a valid token is left to the
    handler, which refuses it."""

    async def charged(request: Request) -> Response:
        try:
            identity = services(request).tokens.decode(bearer_token(request))
        except AppError:
            return await handler(request)
        who = (
            identity.external_id
            if isinstance(identity, ExternalIdentity)
            else str(identity.user_id)
        )
        services(request).writes.charge(who)
        return await handler(request)

    return charged


def services(connection: HTTPConnection) -> Services:
    return connection.app.state.services  # type: ignore[no-any-return]


async def read_body(request: Request, model: type[InputT]) -> InputT:
    """The whole body, bounded, parsed and validated before any work starts."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > BODY_MAX:
            raise AppError(ErrorCode.payload_too_large, f"Bodies are limited to {BODY_MAX} bytes.")
    try:
        return model.model_validate_json(bytes(raw))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(e["type"] in {"json_invalid", "model_type"} and not e["loc"] for e in errors):
            raise AppError(ErrorCode.invalid_json) from exc
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in errors
        ]
        raise AppError(ErrorCode.validation_failed, details=details) from exc


def bearer_token(connection: HTTPConnection) -> str:
    """From ``Authorization: Bearer``. A token in the URL would end up in logs, history and
    ``Referer`` headers, so ``?token=`` is refused rather than ignored: only the WebSocket
    handshakes accept it (`ws/handshake.socket_token`), since a browser cannot set a header
    there."""
    if "token" in connection.query_params:
        raise AppError(ErrorCode.token_in_query)
    token = from_header(connection)
    if token:
        return token
    raise AppError(ErrorCode.unauthenticated)


async def caller(connection: HTTPConnection, tx: AsyncSession) -> User:
    return await user_for_token(tx, services(connection).tokens, bearer_token(connection))


@asynccontextmanager
async def in_room(
    request: Request, action: Action = Action.project_view
) -> AsyncIterator[tuple[AsyncSession, Project, Member]]:
    """One transaction in which the caller has entered ``{project_id}`` with ``action`` allowed."""
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
        project, member = await membership.enter(
            tx, user, request.path_params["project_id"], action
        )
        yield tx, project, member


async def room_changed(connection: HTTPConnection, project_id: int) -> None:
    """After a commit that changes who may do what: every node re-checks its live sockets."""
    await services(connection).hub.publish(project_id, project_events.room_changed())


def respond(payload: BaseModel | None, status: int = 200) -> Response:
    if payload is None:
        return Response(status_code=status)
    return Response(payload.model_dump_json(), status_code=status, media_type="application/json")


def error_response(error: AppError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def query_int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise AppError(
            ErrorCode.validation_failed, f"`{name}` must be an integer from {low} to {high}."
        )
    return value
