"""`WS /yjs/{project_id}/{doc_name}`: the y-websocket endpoint.

The handshake checks origin, token, membership and `doc.read`; `doc.edit` decides whether the
socket may write. The room is loaded before the socket is greeted or read, so step 2 never
carries a half-loaded document. Each frame is one message, handled in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from starlette.websockets import WebSocket

from twinspace_rt import observability
from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Action, require
from twinspace_rt.documents import catalog, codec
from twinspace_rt.documents.codec import Malformed, MessageType, YSyncMessageType
from twinspace_rt.documents.connection import DocConnection
from twinspace_rt.documents.document import DocRef, LiveDocument
from twinspace_rt.documents.guard import PASS_THROUGH, BadUpdate
from twinspace_rt.documents.registry import DocumentRegistry
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.ws.close_codes import FOR_ERROR, CloseCode
from twinspace_rt.ws.handshake import Gate, accept, admit, held, refuse
from twinspace_rt.ws.transport import wired_writer

log = logging.getLogger(__name__)


async def yjs_socket(websocket: WebSocket) -> None:
    documents: DocumentRegistry = websocket.app.state.documents
    gate: Gate = websocket.app.state.gate
    opened = await _open(websocket, documents, gate)
    if opened is None:
        return
    conn, ref = opened
    async with held("yjs", gate, conn, conn.user_id, documents.settings.ws_close_grace_seconds):
        try:
            live = await documents.join(ref, conn)
        except Exception:
            log.exception("document %s could not be loaded", ref.id)
            conn.close(CloseCode.internal_error, "the document could not be loaded")
            return
        try:
            await conn.run(_read(documents, live, conn))
        finally:
            await documents.leave(live, conn)


async def _open(
    websocket: WebSocket, documents: DocumentRegistry, gate: Gate
) -> tuple[DocConnection, DocRef] | None:
    writer = await wired_writer(websocket)
    if writer is None:
        return None
    try:
        user, expires_at, member = await admit(websocket, gate, Action.doc_read)
        async with documents.db.reader() as tx:
            document = await catalog.by_name(tx, member, websocket.path_params["doc_name"])
        await accept(websocket, gate, member)
    except AppError as exc:
        await refuse(websocket, "yjs", exc)
        return None
    settings = documents.settings
    conn = DocConnection(
        websocket,
        writer,
        member,
        user.display_name,
        user.token_generation,
        expires_at,
        settings.ws_send_buffer_bytes,
        TokenBucket(settings.docs_rate_per_second, settings.docs_rate_burst),
        catalog.edit_actions(document),
    )
    return conn, catalog.ref(document)


async def _read(documents: DocumentRegistry, live: LiveDocument, conn: DocConnection) -> None:
    settings = documents.settings
    try:
        while not conn.closing:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                conn.close(None)
                return
            frame = message.get("bytes")
            if frame is None:
                conn.close(CloseCode.protocol_error, "y-websocket speaks binary frames")
                return
            if len(frame) > settings.docs_message_max_bytes:
                limit = settings.docs_message_max_bytes
                conn.close(CloseCode.too_large, f"messages are limited to {limit} bytes")
                return
            if conn.bucket.take() is not None:
                conn.close(CloseCode.rate_limited, "too many messages")
                return
            await _handle(documents, live, conn, frame)
    except (Malformed, BadUpdate) as exc:
        observability.refused("yjs", ErrorCode.bad_update)
        conn.close(CloseCode.bad_update, f"malformed message: {exc}"[:120])
    except AppError as exc:
        observability.refused("yjs", exc.code)
        conn.close(FOR_ERROR.get(exc.code, CloseCode.internal_error), exc.message[:120])
    except PASS_THROUGH:
        raise
    except BaseException:  # noqa: B036 - a Rust panic on a path nobody guarded: this socket only
        log.exception("yjs reader for %s failed", conn.id)
        conn.close(CloseCode.internal_error, "internal error")


async def _handle(
    documents: DocumentRegistry, live: LiveDocument, conn: DocConnection, frame: bytes
) -> None:
    message = codec.decode(frame)
    if message.type is MessageType.sync:
        if message.sync_type is YSyncMessageType.SYNC_STEP1:
            live.answer_step1(conn, message.payload)
        elif not conn.writable:
            if message.payload != codec.EMPTY_UPDATE:
                observability.refused("yjs", ErrorCode.read_only)
                conn.push(codec.permission_denied(_read_only_reason(conn)))
        else:
            queued = documents.queue(live, message.payload, conn.id, conn.user_id)
            if queued is not None:
                queued.add_done_callback(partial(_stored, conn))
    elif message.type is MessageType.awareness:
        if len(message.payload) > documents.settings.docs_awareness_max_bytes:
            limit = documents.settings.docs_awareness_max_bytes
            conn.close(CloseCode.too_large, f"awareness updates are limited to {limit} bytes")
            return
        await documents.awareness(live, conn, message.payload)
    elif message.type is MessageType.query_awareness:
        live.send_awareness(conn)


def _stored(conn: DocConnection, queued: asyncio.Future[None]) -> None:
    """An update that could not be stored ends its socket: the client sends it again, with
    everything after it, when it reconnects and syncs."""
    if queued.cancelled() or queued.exception() is None:
        return
    error = queued.exception()
    if isinstance(error, AppError):
        conn.close(FOR_ERROR.get(error.code, CloseCode.internal_error), error.message[:120])
    else:
        log.error("yjs update for %s not stored", conn.id, exc_info=error)
        conn.close(CloseCode.internal_error, "internal error")


def _read_only_reason(conn: DocConnection) -> str:
    """The policy's own refusal (`read_only`, `forbidden`), as the auth message's reason."""
    try:
        for action in (Action.doc_edit, *conn.edit_actions):
            require(conn.member, action)
    except AppError as exc:
        return f"{exc.code.value}: {exc.message}"
    return ErrorCode.forbidden.value
