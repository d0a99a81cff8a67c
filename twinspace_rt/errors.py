"""The one error vocabulary, shared by the REST API and the WebSocket protocols.

Every refusal anywhere in the product is an ``AppError`` carrying an ``ErrorCode``. HTTP turns it
into ``{"error": {"code", "message"}}`` with the code's status; sockets send the same code in an
``error`` message. Clients switch on the code, never on the message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    invalid_json = "invalid_json"
    validation_failed = "validation_failed"
    unauthenticated = "unauthenticated"
    token_expired = "token_expired"
    token_invalid = "token_invalid"
    token_in_query = "token_in_query"
    invalid_credentials = "invalid_credentials"
    password_change_required = "password_change_required"
    forbidden = "forbidden"
    read_only = "read_only"
    project_closed = "project_closed"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    conflict = "conflict"
    muted = "muted"
    edit_window_passed = "edit_window_passed"
    thread_locked = "thread_locked"
    post_deleted = "post_deleted"
    username_taken = "username_taken"
    already_member = "already_member"
    role_not_allowed = "role_not_allowed"
    founder_protected = "founder_protected"
    last_admin = "last_admin"
    registration_closed = "registration_closed"
    rate_limited = "rate_limited"
    payload_too_large = "payload_too_large"
    bad_update = "bad_update"
    session_full = "session_full"
    participant_removed = "participant_removed"
    invalid_sdp = "invalid_sdp"
    media_unavailable = "media_unavailable"
    search_timeout = "search_timeout"
    too_many_sockets = "too_many_sockets"
    tree_invalid = "tree_invalid"
    not_published = "not_published"
    link_expired = "link_expired"
    quota_exceeded = "quota_exceeded"
    unsupported_type = "unsupported_type"
    media_invalid = "media_invalid"
    offset_mismatch = "offset_mismatch"
    upload_busy = "upload_busy"
    upload_expired = "upload_expired"
    embed_unavailable = "embed_unavailable"
    internal_error = "internal_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.invalid_json: 400,
    ErrorCode.validation_failed: 422,
    ErrorCode.unauthenticated: 401,
    ErrorCode.token_expired: 401,
    ErrorCode.token_invalid: 401,
    ErrorCode.token_in_query: 401,
    ErrorCode.invalid_credentials: 401,
    ErrorCode.password_change_required: 403,
    ErrorCode.forbidden: 403,
    ErrorCode.read_only: 403,
    ErrorCode.project_closed: 403,
    ErrorCode.not_found: 404,
    ErrorCode.method_not_allowed: 405,
    ErrorCode.conflict: 409,
    ErrorCode.muted: 403,
    ErrorCode.edit_window_passed: 403,
    ErrorCode.thread_locked: 409,
    ErrorCode.post_deleted: 410,
    ErrorCode.username_taken: 409,
    ErrorCode.already_member: 409,
    ErrorCode.role_not_allowed: 422,
    ErrorCode.founder_protected: 409,
    ErrorCode.last_admin: 409,
    ErrorCode.registration_closed: 403,
    ErrorCode.rate_limited: 429,
    ErrorCode.payload_too_large: 413,
    ErrorCode.bad_update: 422,
    ErrorCode.session_full: 409,
    ErrorCode.participant_removed: 403,
    ErrorCode.invalid_sdp: 422,
    ErrorCode.media_unavailable: 503,
    ErrorCode.search_timeout: 422,
    ErrorCode.too_many_sockets: 429,
    ErrorCode.tree_invalid: 422,
    ErrorCode.not_published: 422,
    ErrorCode.link_expired: 403,
    ErrorCode.quota_exceeded: 413,
    ErrorCode.unsupported_type: 415,
    ErrorCode.media_invalid: 422,
    ErrorCode.offset_mismatch: 409,
    ErrorCode.upload_busy: 409,
    ErrorCode.upload_expired: 410,
    ErrorCode.embed_unavailable: 422,
    ErrorCode.internal_error: 500,
}

DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.invalid_json: "The body is not a JSON object.",
    ErrorCode.validation_failed: "A field is missing, of the wrong type, out of range or unknown.",
    ErrorCode.unauthenticated: "No access token was sent.",
    ErrorCode.token_expired: "The access token has expired; log in again.",
    ErrorCode.token_invalid: "The token is malformed, tampered with, revoked or for no user.",
    ErrorCode.token_in_query: "Send the token in `Authorization: Bearer`; `?token=` is only "
    "accepted on WebSocket handshakes.",
    ErrorCode.invalid_credentials: "Wrong username or password.",
    ErrorCode.password_change_required: "Sign-in with a one-time password: choose a new "
    "password at `POST /api/me/password` first; nothing else is allowed until then.",
    ErrorCode.forbidden: "Your role in this project does not allow this action.",
    ErrorCode.read_only: "The project is archived: everything is read-only.",
    ErrorCode.project_closed: "The project is closed; only its teacher administrators may enter.",
    ErrorCode.not_found: "No such project, member or user (or you may not see it).",
    ErrorCode.method_not_allowed: "This path does not accept that HTTP method.",
    ErrorCode.conflict: "That name is already in use here.",
    ErrorCode.muted: "A moderator has muted you; `retry_after` says for how long.",
    ErrorCode.edit_window_passed: "Authors may change a message only within the edit window.",
    ErrorCode.thread_locked: "The thread is locked: only moderators may post or change it.",
    ErrorCode.post_deleted: "That post was deleted.",
    ErrorCode.username_taken: "That username already exists.",
    ErrorCode.already_member: "That user is already a member of the project.",
    ErrorCode.role_not_allowed: "That role does not fit this account (teacher vs pupil roles).",
    ErrorCode.founder_protected: "The founder cannot be demoted or removed by others.",
    ErrorCode.last_admin: "A project must keep at least one teacher administrator.",
    ErrorCode.registration_closed: "Open registration is disabled on this server.",
    ErrorCode.rate_limited: "Too many attempts; wait `retry_after` seconds.",
    ErrorCode.payload_too_large: "The request body is too large.",
    ErrorCode.bad_update: "Not a well-formed Yjs v1 update; nothing was applied or stored.",
    ErrorCode.session_full: "The video session has as many participants as it may hold.",
    ErrorCode.participant_removed: "A moderator removed you from this video session.",
    ErrorCode.invalid_sdp: "The SDP description or ICE candidate is malformed or too large.",
    ErrorCode.media_unavailable: "The media server (SFU) is unreachable or failed; try again.",
    ErrorCode.search_timeout: "The search took too long; search for longer or fewer words.",
    ErrorCode.too_many_sockets: "You have as many connections open as one member may; close "
    "another tab or device first.",
    ErrorCode.tree_invalid: "Pages nest at most three levels deep, and a page cannot move under "
    "itself or one of its own subpages.",
    ErrorCode.not_published: "Only published pages (and approved journal posts) can be shown "
    "on the public showcase.",
    ErrorCode.link_expired: "The download link has expired or was made for someone else; "
    "ask the request for a fresh one.",
    ErrorCode.quota_exceeded: "The project's materials would pass its storage quota.",
    ErrorCode.unsupported_type: "The content is not of a type accepted here (checked from the "
    "bytes, never the name): images go into albums; video, audio and files into folders.",
    ErrorCode.media_invalid: "The image, video or audio is truncated, damaged, too large once "
    "decoded, or too long.",
    ErrorCode.offset_mismatch: "`Upload-Offset` is not where the upload stands; ask with HEAD.",
    ErrorCode.upload_busy: "Another request is writing this upload; wait for it to end.",
    ErrorCode.upload_expired: "The unfinished upload expired and was deleted; start again.",
    ErrorCode.embed_unavailable: "The embedded object is unknown, in another project, or not "
    "visible to you.",
    ErrorCode.internal_error: "Unexpected server error; nothing was written.",
}


class AppError(Exception):
    """A refusal the client can act on; raised anywhere, rendered by the transport."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        details: Any = None,
    ) -> None:
        self.code = code
        self.message = message or DESCRIPTIONS[code]
        self.retry_after = retry_after
        self.details = details
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}
