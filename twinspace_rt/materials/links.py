"""Short-lived signed links to a material's bytes, for the browser's ``<img>`` and ``<video>``.

Those elements cannot send ``Authorization``, and a token in a URL would outlive its page in
logs and history, so REST hands out, after the same visibility check, a link naming the
material, the variant, the member and an expiry, signed with HMAC-SHA256 under a key derived
from the server's secret. Following it checks the signature and the expiry, then checks the
membership and the visibility again: a removed member's links stop working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from twinspace_rt.errors import AppError, ErrorCode


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"twinspace materials link\0" + secret.encode()).digest()


def _mac(
    secret: str, project_id: int, material_id: int, variant: str, user_id: int, expires: int
) -> str:
    message = f"{project_id}:{material_id}:{variant}:{user_id}:{expires}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(
    secret: str, project_id: int, material_id: int, variant: str, user_id: int, seconds: int
) -> str:
    """The query string of a link valid for ``seconds``."""
    expires = int(time.time()) + seconds
    mac = _mac(secret, project_id, material_id, variant, user_id, expires)
    return f"user={user_id}&expires={expires}&signature={mac}"


def verify(
    secret: str, project_id: int, material_id: int, variant: str, query: dict[str, str]
) -> int:
    """The user id a valid, unexpired link was made for."""
    try:
        user_id, expires = int(query["user"]), int(query["expires"])
        signature = query["signature"]
    except (KeyError, ValueError) as exc:
        raise AppError(ErrorCode.token_invalid, "Malformed material link.") from exc
    expected = _mac(secret, project_id, material_id, variant, user_id, expires)
    if not hmac.compare_digest(expected, signature):
        raise AppError(ErrorCode.token_invalid, "This material link is not valid.")
    if expires < time.time():
        raise AppError(ErrorCode.token_expired, "This material link has expired.")
    return user_id
