"""Application close codes for the hub and Yjs sockets (documented in docs/PROTOCOL.md)."""

from __future__ import annotations

from enum import IntEnum

from twinspace_rt.errors import ErrorCode


class CloseCode(IntEnum):
    # RFC 6455: the server is going away (restart, deploy); the client reconnects and resumes.
    going_away = 1001
    # RFC 6455: the server failed; the client reconnects and resyncs.
    internal_error = 1011
    protocol_error = 4400
    unauthenticated = 4401
    forbidden = 4403
    not_found = 4404
    too_slow = 4408
    too_many_sockets = 4409
    too_large = 4413
    bad_update = 4422
    rate_limited = 4429


# A refusal before or during a session closes with the code that names its cause.
FOR_ERROR: dict[ErrorCode, CloseCode] = {
    ErrorCode.unauthenticated: CloseCode.unauthenticated,
    ErrorCode.token_expired: CloseCode.unauthenticated,
    ErrorCode.token_invalid: CloseCode.unauthenticated,
    ErrorCode.not_found: CloseCode.not_found,
    ErrorCode.forbidden: CloseCode.forbidden,
    ErrorCode.password_change_required: CloseCode.forbidden,
    ErrorCode.project_closed: CloseCode.forbidden,
    ErrorCode.rate_limited: CloseCode.rate_limited,
    ErrorCode.too_many_sockets: CloseCode.too_many_sockets,
    ErrorCode.payload_too_large: CloseCode.too_large,
    ErrorCode.bad_update: CloseCode.bad_update,
}
