"""A project's broker topic, and the one event every subscriber of it understands.

The hub and the documents both follow a project's topic: the hub for everything live in the
room, the documents to apply membership and status changes to their sockets.
"""

from __future__ import annotations

from typing import Any


def topic(project_id: int) -> str:
    return f"project:{project_id}"


def room_changed() -> dict[str, Any]:
    """Membership, roles or status changed: every node re-checks its sockets against the store."""
    return {"kind": "room"}


def sign_in_renewed(user_id: int, sign_in: str, generation: int) -> dict[str, Any]:
    """A member changed their password: like `room_changed`, but the sockets of ``sign_in`` go
    on at ``generation`` (`projects/accounts.carry_sign_in`) while the others close."""
    renewed = {"user_id": user_id, "sign_in": sign_in, "generation": generation}
    return {"kind": "room", "renewed": renewed}
