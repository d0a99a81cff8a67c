"""The y-websocket wire format: strict decoding of what clients send, encoders for replies.

Every frame carries exactly one message: ``varuint type`` then its body. pycrdt's helpers build
the replies; decoding is done here with bounds checks, because a truncated varint or a length
that runs past the frame must be refused whole rather than read as whatever bytes follow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum

from pycrdt import (
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

__all__ = [
    "AwarenessEntry",
    "Malformed",
    "MessageType",
    "YMessageType",
    "YSyncMessageType",
    "awareness_message",
    "decode",
    "decode_awareness",
    "encode_awareness",
    "permission_denied",
    "query_awareness",
    "step1",
    "step2",
    "update_message",
]

VAR_UINT_MAX_BYTES = 8  # 2**56: more than any length, clock or client id a peer may send
EMPTY_UPDATE = b"\x00\x00"


class MessageType(IntEnum):
    sync = 0
    awareness = 1
    auth = 2
    query_awareness = 3


class Malformed(ValueError):
    """The frame is not a well-formed y-websocket message."""


@dataclass(frozen=True, slots=True)
class Message:
    type: MessageType
    sync_type: YSyncMessageType | None = None
    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # JSON text; "null" removes the client


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        value = shift = 0
        for _ in range(VAR_UINT_MAX_BYTES):
            if self.pos >= len(self.data):
                raise Malformed("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise Malformed("varint too long")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise Malformed("length runs past the end of the frame")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def end(self) -> None:
        if self.pos != len(self.data):
            raise Malformed("trailing bytes after the message (one message per frame)")


def decode(frame: bytes) -> Message:
    reader = _Reader(frame)
    try:
        kind = MessageType(reader.var_uint())
    except ValueError as exc:
        raise Malformed(str(exc)) from exc
    if kind is MessageType.sync:
        try:
            sync_type = YSyncMessageType(reader.var_uint())
        except ValueError as exc:
            raise Malformed(f"unknown sync message: {exc}") from exc
        message = Message(kind, sync_type, reader.var_bytes())
    elif kind is MessageType.awareness:
        message = Message(kind, None, reader.var_bytes())
    elif kind is MessageType.auth:
        reader.var_uint()
        message = Message(kind, None, reader.var_bytes())
    else:
        message = Message(kind)
    reader.end()
    return message


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """Each entry's state must be JSON (an object, or null for a client that left)."""
    reader = _Reader(payload)
    entries = []
    for _ in range(reader.var_uint()):
        client_id, clock = reader.var_uint(), reader.var_uint()
        try:
            state = reader.var_bytes().decode()
            value = json.loads(state)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise Malformed(f"awareness state is not JSON: {exc}") from exc
        if value is not None and not isinstance(value, dict):
            raise Malformed("an awareness state is a JSON object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.end()
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    """An awareness update (y-protocols' layout) holding ``entries``."""
    out = bytearray(write_var_uint(len(entries)))
    for entry in entries:
        out += write_var_uint(entry.client_id) + write_var_uint(entry.clock)
        out += write_message(entry.state.encode())
    return bytes(out)


def step1(state_vector: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP1]) + write_message(state_vector)


def step2(update: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP2]) + write_message(update)


def update_message(update: bytes) -> bytes:
    return create_update_message(update)


def awareness_message(update: bytes) -> bytes:
    return create_awareness_message(update)


def query_awareness() -> bytes:
    return bytes([MessageType.query_awareness])


def permission_denied(reason: str) -> bytes:
    """Auth message 0: the stock client reports it; its update was not applied."""
    encoded = reason.encode()
    return bytes([MessageType.auth]) + write_var_uint(0) + write_message(encoded)
