"""Read markers and unread counts: what is new for me in each channel."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.storage.chat_models import Channel, ChatMessage, ReadMarker


async def mark_read(tx: AsyncSession, member: Member, channel: Channel, seq: int) -> int:
    """Markers only move forward, so a late marker from another device cannot rewind one."""
    assert channel.id is not None
    found = await tx.exec(
        select(ReadMarker).where(
            ReadMarker.channel_id == channel.id, ReadMarker.user_id == member.user_id
        )
    )
    marker = found.first() or ReadMarker(channel_id=channel.id, user_id=member.user_id)
    marker.last_read_seq = max(marker.last_read_seq, min(seq, channel.last_seq))
    tx.add(marker)
    await tx.flush()
    return marker.last_read_seq


async def unread_counts(
    tx: AsyncSession, member: Member, channels: list[Channel]
) -> dict[str, int]:
    """Counts for ``channels``, which the caller has already narrowed to what it may read."""
    readable = {c.id: c for c in channels if c.id is not None}
    markers = await tx.exec(
        select(ReadMarker.channel_id, ReadMarker.last_read_seq).where(
            ReadMarker.user_id == member.user_id, col(ReadMarker.channel_id).in_(list(readable))
        )
    )
    read_up_to = dict(markers.all())
    counts: dict[str, int] = {}
    for channel_id, channel in readable.items():
        found = await tx.exec(
            select(func.count()).where(
                ChatMessage.channel_id == channel_id,
                col(ChatMessage.seq) > read_up_to.get(channel_id, 0),
                ChatMessage.author_id != member.user_id,
                col(ChatMessage.deleted_at).is_(None),
            )
        )
        counts[channel.name] = found.one()
    return counts
