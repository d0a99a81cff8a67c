"""The handshake every WebSocket endpoint shares: origin, token, membership with an action.

A socket is refused before any feature sees it; the refusal is a close code that names its
cause (`close_codes.FOR_ERROR`), so a client knows whether to sign in again or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.websockets import WebSocket

from twinspace_rt.auth.bearer import from_header
from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import membership
from twinspace_rt.projects.accounts import sign_in_for_token
from twinspace_rt.storage.models import User
from twinspace_rt.ws.close_codes import FOR_ERROR, CloseCode
from twinspace_rt.ws.member_sockets import MemberSockets


def check_origin(websocket: WebSocket, allowed: list[str]) -> None:
    """Browsers always send Origin; a page from another site may not ride a user's token."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in allowed:
        return
    if urlsplit(origin).netloc == websocket.headers.get("host"):
        return
    raise AppError(ErrorCode.forbidden, f"Origin {origin} may not open this socket.")


@dataclass(frozen=True)
class Gate:
    """What every socket's handshake is checked against; one per node (``app.state.gate``)."""

    tokens: TokenService
    allowed_origins: list[str]
    sockets: MemberSockets


async def admit(
    websocket: WebSocket, gate: Gate, tx: AsyncSession, action: Action
) -> tuple[User, datetime, Member]:
    """Origin, token, membership with ``action`` allowed: the member the socket speaks for."""
    check_origin(websocket, gate.allowed_origins)
    user, expires_at, sign_in = await sign_in_for_token(tx, gate.tokens, socket_token(websocket))
    websocket.state.sign_in = sign_in  # a password change keeps this sign-in
    _, member = await membership.enter(tx, user, websocket.path_params["project_id"], action)
    return user, expires_at, member


def socket_token(websocket: WebSocket) -> str:
    """A browser cannot set headers on a WebSocket, so a socket may carry ``?token=``."""
    token = from_header(websocket) or websocket.query_params.get("token")
    if not token:
        raise AppError(ErrorCode.unauthenticated)
    return token


def close_code(exc: AppError) -> int:
    """The close code that names a refusal's cause."""
    return FOR_ERROR.get(exc.code, CloseCode.protocol_error)
