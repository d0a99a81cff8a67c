"""Signing in and one's own account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.http import (
    Endpoint,
    bearer_token,
    caller,
    in_room,
    read_body,
    respond,
    services,
)
from twinspace_rt.api.schemas import (
    LoginIn,
    PasswordChangedOut,
    PasswordChangeIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import accounts, events
from twinspace_rt.storage.models import User


def _token_for(request: Request, user: User) -> TokenOut:
    assert user.id is not None
    token, expires_at = services(request).tokens.issue(user.id, user.token_generation)
    return TokenOut(token=token, expires_at=expires_at, user=UserOut.of(user))


async def login(request: Request) -> Response:
    body = await read_body(request, LoginIn)
    address = request.client.host if request.client else "unknown"
    app = services(request)
    async with app.db.reader() as tx:
        user = await accounts.login(tx, app.throttle, body.username, body.password, address)
    return respond(_token_for(request, user))


async def register(request: Request) -> Response:
    app = services(request)
    if not app.settings.open_registration:
        raise AppError(ErrorCode.registration_closed)
    body = await read_body(request, RegisterIn)
    async with app.db.transaction() as tx:
        user = await accounts.create_teacher(
            tx, body.username, body.password, body.display_name, body.country
        )
    return respond(_token_for(request, user), 201)


async def me(request: Request) -> Response:
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
    return respond(UserOut.of(user))


async def change_password(request: Request) -> Response:
    """Every other sign-in ends, on every node; this one goes on with the returned token."""
    body = await read_body(request, PasswordChangeIn)
    app = services(request)
    async with app.db.transaction() as tx:
        user, _, sign_in = await accounts.sign_in_for_token(
            tx, app.tokens, bearer_token(request), changing_password=True
        )
        project_ids = await accounts.change_password(
            tx, user, body.current_password, body.new_password
        )
    assert user.id is not None
    token, expires_at = app.tokens.issue(user.id, user.token_generation, sign_in)
    renewed = events.sign_in_renewed(user.id, sign_in, user.token_generation)
    for project_id in project_ids:
        await app.hub.publish(project_id, renewed)
    out = UserOut.of(user)
    return respond(PasswordChangedOut(**out.model_dump(), token=token, expires_at=expires_at))


async def unlock_pupil(request: Request) -> Response:
    """Lets a pupil try their password again at once, from any address."""
    app = services(request)
    async with in_room(request, Action.pupils_create) as (tx, _, actor):
        await accounts.unlock(tx, app.throttle, actor, request.path_params["user_id"])
    return respond(None, 204)


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/auth/login",
        login,
        "Log in; returns an access token.",
        body=LoginIn,
        response=TokenOut,
        public=True,
        errors=(ErrorCode.invalid_credentials, ErrorCode.rate_limited),
    ),
    Endpoint(
        "POST",
        "/api/auth/register",
        register,
        "Register a teacher account (only with TWINSPACE_OPEN_REGISTRATION=true).",
        body=RegisterIn,
        response=TokenOut,
        status=201,
        public=True,
        errors=(ErrorCode.registration_closed, ErrorCode.username_taken),
    ),
    Endpoint("GET", "/api/me", me, "The signed-in account.", response=UserOut),
    Endpoint(
        "POST",
        "/api/projects/{project_id:int}/pupils/{user_id:int}/unlock",
        unlock_pupil,
        "Forget a pupil's failed logins, from every address, so they may sign in again at "
        "once (`pupils.create`).",
        status=204,
        errors=(ErrorCode.not_found, ErrorCode.forbidden),
    ),
    Endpoint(
        "POST",
        "/api/me/password",
        change_password,
        "Replace one's password (pupils replace their one-time password here); every other "
        "sign-in of the account ends, this one goes on with the token returned.",
        body=PasswordChangeIn,
        response=PasswordChangedOut,
        errors=(ErrorCode.invalid_credentials,),
    ),
]
