"""The hub's wire format: the envelope of every frame, and the requests of the hub core itself.

Features declare their own request models next to their handlers and register them
(`hub/features.py`); the frames they push all go through `push`.

A request carries a client ``id`` that its ``ack`` or ``error`` echoes; server pushes carry none.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from twinspace_rt.errors import AppError
from twinspace_rt.hub.request import Request


class Ping(Request):
    type: Literal["ping"]


class AuthRefresh(Request):
    type: Literal["auth.refresh"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["home", "channel", "doc", "video", "forum"]
    ref: Annotated[str, StringConstraints(max_length=64)] | None = None


class PresenceUpdate(Request):
    type: Literal["presence.update"]
    status: Literal["active", "away"] | None = None
    location: Location | None = None


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=_default)


def ack(request_id: str, **fields: Any) -> str:
    return encode({"type": "ack", "id": request_id, **fields})


def error(request_id: str | None, exc: AppError) -> str:
    frame: dict[str, Any] = {"type": "error", "id": request_id, **exc.body()["error"]}
    return encode(frame)


def push(kind: str, **fields: Any) -> str:
    return encode({"type": kind, **fields})
