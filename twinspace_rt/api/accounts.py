"""Signing in and one's own account."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
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
from twinspace_rt.projects import accounts, events, login_history
from twinspace_rt.storage.login_models import LoginEvent, LoginOutcome
from twinspace_rt.storage.models import User


def _token_for(request: Request, user: User) -> TokenOut:
    assert user.id is not None
    token, expires_at = services(request).tokens.issue(user.id, user.token_generation)
    return TokenOut(token=token, expires_at=expires_at, user=UserOut.of(user))


class LoginOut(BaseModel):
    at: datetime
    outcome: LoginOutcome
    address: str
    client: str


class LoginHistoryOut(BaseModel):
    """Newest first, at most `login_history.LIST_MAX`, kept `retention_login_days`."""

    logins: list[LoginOut]
    kept_days: int


async def login(request: Request) -> Response:
    """Each attempt on an existing account goes into its login history, after the answer is
    decided (the address is the one uvicorn resolved through `trusted_proxies`)."""
    body = await read_body(request, LoginIn)
    address = request.client.host if request.client else "unknown"
    agent = request.headers.get("user-agent", "")
    app = services(request)
    try:
        async with app.db.reader() as tx:
            user = await accounts.login(tx, app.throttle, body.username, body.password, address)
    except AppError as error:
        if error.code in (ErrorCode.invalid_credentials, ErrorCode.rate_limited):
            outcome = (
                LoginOutcome.failed
                if error.code == ErrorCode.invalid_credentials
                else LoginOutcome.throttled
            )
            await login_history.record(app.db, body.username, outcome, address, agent)
        raise
    await login_history.record(app.db, body.username, LoginOutcome.ok, address, agent)
    return respond(_token_for(request, user))


def _history_out(request: Request, events: list[LoginEvent]) -> LoginHistoryOut:
    return LoginHistoryOut(
        logins=[
            LoginOut(at=e.at, outcome=LoginOutcome(e.outcome), address=e.address, client=e.client)
            for e in events
        ],
        kept_days=services(request).settings.retention_login_days,
    )


async def my_logins(request: Request) -> Response:
    async with services(request).db.reader() as tx:
        user = await caller(request, tx)
        assert user.id is not None
        events = await login_history.history(tx, user.id)
    return respond(_history_out(request, events))


async def pupil_logins(request: Request) -> Response:
    """A teacher administrator answering for a pupil of the project (`privacy.manage`)."""
    async with in_room(request, Action.privacy_manage) as (tx, _, actor):
        events = await login_history.pupil_history(
            tx, actor.project_id, request.path_params["user_id"]
        )
    return respond(_history_out(request, events))


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
        "GET",
        "/api/me/logins",
        my_logins,
        "The signed-in account's login history: sign-ins and failed sign-ins, newest first.",
        response=LoginHistoryOut,
    ),
    Endpoint(
        "GET",
        "/api/projects/{project_id:int}/members/{user_id:int}/logins",
        pupil_logins,
        "A pupil's login history, for a teacher administrator of the project "
        "(`privacy.manage`); a teacher's is theirs alone.",
        response=LoginHistoryOut,
        errors=(ErrorCode.not_found, ErrorCode.forbidden, ErrorCode.project_closed),
    ),
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
