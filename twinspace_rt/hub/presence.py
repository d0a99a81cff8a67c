"""Presence as people see it: one entry per user, however many devices they are on.

A device's place (``location``) may name something not everyone may read: a teacher in the
teachers' room. The feature that owns the kind of place says, when the place is set, who
reads it (``seen_by``: each entry a space-separated set of actions, like a document's
``read_requires``; any one entry held whole suffices; empty for everyone), and each receiver is
sent the place's kind without its name when they hold no entry (`seen`). The names of channels
and documents a pupil cannot read never reach their socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twinspace_rt.auth.policy import Action, Member, can


def entry(
    conn_id: str,
    user_id: int,
    name: str,
    role: str,
    device: str,
    status: str,
    location: dict[str, Any],
    seen_by: list[str],
) -> dict[str, Any]:
    """One device's presence, as stored in the broker with a TTL."""
    return {
        "conn": conn_id,
        "user_id": user_id,
        "display_name": name,
        "role": role,
        "device": device,
        "status": status,
        "location": location,
        "seen_by": seen_by,
    }


def group(devices: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    users: dict[int, dict[str, Any]] = {}
    for conn_id in sorted(devices):
        device = devices[conn_id]
        user = users.setdefault(
            device["user_id"],
            {
                "user_id": device["user_id"],
                "display_name": device["display_name"],
                "role": device["role"],
                "status": "away",
                "devices": [],
            },
        )
        user["devices"].append(
            {
                "id": conn_id,
                "device": device["device"],
                "status": device["status"],
                "location": device["location"],
                "seen_by": device.get("seen_by", []),
            }
        )
        if device["status"] == "active":
            user["status"] = "active"
    return users


def seen(users: dict[int, dict[str, Any]], member: Member) -> dict[int, dict[str, Any]]:
    """Presence as ``member`` may see it, without the ``seen_by`` that decides it."""
    return {
        user_id: {**user, "devices": [_device_seen(d, member) for d in user["devices"]]}
        for user_id, user in users.items()
    }


def _device_seen(device: dict[str, Any], member: Member) -> dict[str, Any]:
    shown = {k: v for k, v in device.items() if k != "seen_by"}
    readers = device["seen_by"]
    if readers and not any(all(can(member, Action(a)) for a in entry.split()) for entry in readers):
        shown["location"] = {"kind": device["location"]["kind"], "ref": None}
    return shown


def presence_diff(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for user_id, user in after.items():
        if user_id not in before:
            yield "presence.join", user
        elif before[user_id] != user:
            yield "presence.update", user
    for user_id, user in before.items():
        if user_id not in after:
            yield "presence.leave", {"user_id": user_id, "display_name": user["display_name"]}
