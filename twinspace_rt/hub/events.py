"""What the hub sends between nodes on a project's topic (`projects/events.py`). Frames are
encoded once, at origin."""

from __future__ import annotations

from typing import Any


def stream(key: int | str, version: int, frame: str) -> dict[str, Any]:
    """A stored, numbered change of a stream (a chat channel by id, a forum stream by name):
    delivered through each subscribed socket's cursor, without gap or repeat."""
    return {"kind": "stream", "key": key, "version": version, "frame": frame}


def to_stream_readers(key: int | str, frame: str, but: int) -> dict[str, Any]:
    """Ephemeral news of a stream (someone typing) for its subscribers, but not user ``but``."""
    return {"kind": "stream_readers", "key": key, "but": but, "frame": frame}


def to_moderators(frame: str, action: str = "chat.moderate") -> dict[str, Any]:
    """For the online members whose role holds ``action``."""
    return {"kind": "moderators", "action": action, "frame": frame}


def presence_changed() -> dict[str, Any]:
    return {"kind": "presence"}


def to_connection(connection_id: str, frame: str) -> dict[str, Any]:
    """One socket, on whatever node holds it (video signaling between participants)."""
    return {"kind": "connection", "connection_id": connection_id, "frame": frame}


def to_connections(connection_ids: list[str], frame: str) -> dict[str, Any]:
    """Some sockets, on whatever nodes hold them, in one event (a feed announced to the
    participants of one breakout group)."""
    return {"kind": "connections", "connection_ids": connection_ids, "frame": frame}


def to_user(user_id: int, frame: str) -> dict[str, Any]:
    """Every socket of one member, on whatever node (a pupil told that a teacher paused them)."""
    return {"kind": "user", "user_id": user_id, "frame": frame}


def to_everyone(frame: str) -> dict[str, Any]:
    """Every socket in the room (video session state)."""
    return {"kind": "everyone", "frame": frame}
