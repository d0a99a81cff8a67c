"""The handshake every WebSocket endpoint shares: origin, token, membership with an action.

A socket is refused before any feature sees it; the refusal is a close code that names its
cause (`close_codes.FOR_ERROR`), so a client knows whether to sign in again or give up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from twinspace_rt import observability
from twinspace_rt.auth.bearer import from_header
from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects.admission import Admissions
from twinspace_rt.storage.models import User
from twinspace_rt.ws.close_codes import FOR_ERROR, CloseCode
from twinspace_rt.ws.member_sockets import MemberSockets
from twinspace_rt.ws.transport import DirectSocket


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

    admissions: Admissions
    allowed_origins: list[str]
    sockets: MemberSockets


async def admit(websocket: WebSocket, gate: Gate, action: Action) -> tuple[User, datetime, Member]:
    """Origin, token, membership with ``action`` allowed: the member the socket speaks for.
    Read with the other handshakes arriving meanwhile (`projects/admission.py`), never cached."""
    check_origin(websocket, gate.allowed_origins)
    admitted = await gate.admissions.admit(
        socket_token(websocket), websocket.path_params["project_id"], action
    )
    websocket.state.sign_in = admitted.sign_in  # a password change keeps this sign-in
    return admitted.user, admitted.expires_at, admitted.member


def socket_token(websocket: WebSocket) -> str:
    """A browser cannot set headers on a WebSocket, so a socket may carry ``?token=``."""
    token = from_header(websocket) or websocket.query_params.get("token")
    if not token:
        raise AppError(ErrorCode.unauthenticated)
    return token


def close_code(exc: AppError) -> int:
    """The close code that names a refusal's cause."""
    return FOR_ERROR.get(exc.code, CloseCode.protocol_error)


async def accept(websocket: WebSocket, gate: Gate, member: Member) -> None:
    """Accepts an admitted socket, counted against its member's cap (`too_many_sockets` beyond,
    for the caller to refuse); the count is given back if the accept itself fails."""
    gate.sockets.claim(member.user_id)
    try:
        await websocket.accept()
    except BaseException:
        gate.sockets.release(member.user_id)
        raise


async def refuse(websocket: WebSocket, kind: str, exc: AppError, first: str | None = None) -> None:
    """Closes a socket the handshake refused with the close code naming the cause; ``first`` is
    a frame to send before (the hub's `error`)."""
    await websocket.accept()
    if first is not None:
        await websocket.send_text(first)
    code = close_code(exc)
    observability.closed(kind, code)
    await websocket.close(code, exc.message[:120])


@asynccontextmanager
async def held(
    kind: str, gate: Gate, conn: DirectSocket, user_id: int, grace: float
) -> AsyncIterator[None]:
    """An accepted socket's life: in the metrics while it lasts, its member's count given back
    when it ends, and hung up with a bound (a peer that stopped reading is reset)."""
    try:
        observability.socket_opened(kind)
        try:
            yield
        finally:
            observability.socket_ended(kind, conn.close_code, conn.close_reason)
    finally:
        gate.sockets.release(user_id)
    conn.hang_up(grace)
