"""Presence as people see it: one entry per user, however many devices they are on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def entry(
    conn_id: str,
    user_id: int,
    name: str,
    role: str,
    device: str,
    status: str,
    location: dict[str, Any],
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
            }
        )
        if device["status"] == "active":
            user["status"] = "active"
    return users


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
