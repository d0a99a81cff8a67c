"""Where a request or a socket carries its access token."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def from_header(connection: HTTPConnection) -> str | None:
    """The credentials of ``Authorization: Bearer …``, or None."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None
