"""What travels between nodes on a project's broker topic. Frames are encoded once, at origin."""

from __future__ import annotations

from typing import Any


def topic(project_id: int) -> str:
    return f"project:{project_id}"


def chat(channel_id: int, rule: str, version: int, frame: str) -> dict[str, Any]:
    return {
        "kind": "chat",
        "channel_id": channel_id,
        "rule": rule,
        "version": version,
        "frame": frame,
    }


def typing(channel_id: int, rule: str, user_id: int, frame: str) -> dict[str, Any]:
    return {
        "kind": "typing",
        "channel_id": channel_id,
        "rule": rule,
        "user_id": user_id,
        "frame": frame,
    }


def forum(stream: str, seq: int, frame: str) -> dict[str, Any]:
    """A stored change of a project's ``forum`` or ``bulletin`` stream."""
    return {"kind": "forum", "stream": stream, "seq": seq, "frame": frame}


def to_moderators(frame: str, action: str = "chat.moderate") -> dict[str, Any]:
    """For the online members whose role holds ``action``."""
    return {"kind": "moderators", "action": action, "frame": frame}


def presence_changed() -> dict[str, Any]:
    return {"kind": "presence"}


def room_changed() -> dict[str, Any]:
    """Membership, roles or status changed: every node re-checks its sockets against the store."""
    return {"kind": "room"}


def session_renewed(user_id: int, session: str, generation: int) -> dict[str, Any]:
    """A member changed their password: like `room_changed`, but the sockets of ``session`` go
    on at ``generation`` (`projects/accounts.carry_session`) while the others close."""
    renewed = {"user_id": user_id, "session": session, "generation": generation}
    return {"kind": "room", "renewed": renewed}


def to_connection(connection_id: str, frame: str) -> dict[str, Any]:
    """One socket, on whatever node holds it (video signaling between participants)."""
    return {"kind": "connection", "connection_id": connection_id, "frame": frame}


def to_everyone(frame: str) -> dict[str, Any]:
    """Every socket in the room (video session state)."""
    return {"kind": "everyone", "frame": frame}
