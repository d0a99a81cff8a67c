"""Acting in a room's forums over REST, as a client would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.live import WAIT, HubClient
from tests.support.room import Room


class Forums:
    """One room's forum endpoints, called as any member of it."""

    def __init__(self, http: httpx.AsyncClient, room: Room) -> None:
        self.http = http
        self.room = room
        self.base = f"/api/projects/{room.project_id}"

    async def call(
        self, role: str, method: str, path: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        return await self.http.request(
            method,
            self.base + path,
            json=body,
            params=params or None,
            headers=self.room.headers[role],
        )

    async def ok(self, role: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.call(role, method, path, body, **params)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    async def forum(self, title: str = "Our rivers") -> int:
        created = await self.ok("teacher_admin", "POST", "/forums", {"title": title})
        return int(created["id"])

    async def thread(
        self, forum_id: int, role: str = "teacher", title: str = "Rivers"
    ) -> dict[str, Any]:
        body = {"title": title, "body": f"{title}: tell us about yours."}
        return await self.ok(role, "POST", f"/forums/{forum_id}/threads", body)  # type: ignore[no-any-return]

    async def reply(self, thread_id: int, role: str, body: str, **extra: Any) -> dict[str, Any]:
        return await self.ok(role, "POST", f"/threads/{thread_id}/posts", {"body": body, **extra})  # type: ignore[no-any-return]


async def stream_frames(
    client: HubClient, count: int, prefix: str = "forum.", timeout: float = WAIT
) -> list[dict[str, Any]]:
    """The first ``count`` pushes of a stream, whatever their kind, waiting (bounded) if needed.

    Returned by ``seq``, as a client applies them: pushes published at once by different
    requests or nodes may arrive in either order.
    """

    def found() -> list[dict[str, Any]]:
        return [p for p in client.pushes if p["type"].startswith(prefix) and "seq" in p]

    async with asyncio.timeout(timeout):
        while len(found()) < count:
            await asyncio.sleep(0.02)
    return sorted(found()[:count], key=lambda f: int(f["seq"]))
