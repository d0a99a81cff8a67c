"""The hub's wire format: the envelope of every frame, how a client's frame is read, and the
requests of the hub core itself.

Features declare their own request models next to their handlers and register them
(`hub/features.py`); the frames they push all go through `push`.

A request carries a client ``id`` that its ``ack`` or ``error`` echoes; server pushes carry none.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.request import Request
from twinspace_rt.ws.json_depth import nests_deeper


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


# Reading a client's frame: bounded depth, JSON, storable text, a registered request.


def decode(text: str, max_depth: int) -> dict[str, Any]:
    if nests_deeper(text, max_depth):
        raise AppError(
            ErrorCode.validation_failed, f"Requests nest at most {max_depth} levels deep."
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AppError(ErrorCode.invalid_json, "The frame is not JSON.") from exc
    if not isinstance(value, dict):
        raise AppError(ErrorCode.invalid_json, "Send a JSON object with a `type`.")
    return value


# Characters no UTF-8 frame (a lone surrogate) or PostgreSQL text (NUL) can carry. They reach
# a ``str`` only through ``\uD800`` or ``\u0000`` escapes: frames are UTF-8, and the parser
# refuses raw control characters in strings.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def request_id(value: dict[str, Any]) -> str | None:
    """The client's ``id``, echoed by the answer only when it is a short storable string."""
    raw = value.get("id")
    if isinstance(raw, str) and len(raw) <= 64 and not _UNSTORABLE.search(raw):
        return raw
    return None


def check_storable(text: str, value: Any) -> None:
    """Refuses a frame whose strings hold NUL or a lone surrogate; only a frame with such an
    escape in its text is walked."""
    if _ESCAPED_UNSTORABLE.search(text) and _has_unstorable(value):
        raise AppError(ErrorCode.validation_failed, "Text may not hold NUL or a lone surrogate.")


def _has_unstorable(value: Any) -> bool:
    """Whether any string holds such a character (a valid pair was joined by the parser)."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v) for v in value)
    return False


def validate(adapter: TypeAdapter[Any], value: dict[str, Any]) -> Any:
    """The request model of ``value`` by its ``type``, from the registry's union (`features`)."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(p["type"].startswith("union_tag") for p in problems):
            raise AppError(
                ErrorCode.validation_failed, f"Unknown request type {value.get('type')!r}."
            ) from exc
        details = [
            {"field": ".".join(str(x) for x in p["loc"][1:]), "problem": p["msg"]} for p in problems
        ]
        raise AppError(ErrorCode.validation_failed, details=details) from exc
