"""A node that stops tells its open sockets 1001 with the reason clients act on (reconnect and
resume), hub and document sockets alike: what a rolling restart relies on (tests/deploy runs one
through Caddy)."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.documents.test_documents import new_doc, open_doc
from tests.support.live import serve
from tests.support.room import make_room
from twinspace_rt.settings import Settings


async def test_a_stopping_node_closes_hub_and_document_sockets_with_1001(
    settings: Settings,
) -> None:
    async with serve(settings) as live:
        room = await make_room(live.http, live.services)
        hub = await connect(live, room, "teacher")
        await new_doc(live, room)
        document = await open_doc(live, room, "pupil")
    assert await hub.closed() == 1001
    assert hub.close_reason == "server shutting down: reconnect and resume"
    assert await document.closed() == 1001
