"""Numbering materials changes for live delivery and gap-free resume, as forums do.

Two streams per project: ``materials`` (every member: approved materials, albums and folders)
and ``review`` (reviewers: pupils' uploads waiting for a teacher). Every reader of a stream is
sent every change of it, which is what lets a cursor say "I hold everything up to N"; pending
uploads are not everyone's to see, so they have their own numbering.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action
from twinspace_rt.hub import events
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.replay import Pending
from twinspace_rt.storage.material_models import MaterialEvent, MaterialStream
from twinspace_rt.storage.rows import insert_missing


class Stream(StrEnum):
    materials = "materials"
    review = "review"


READ_ACTION = {Stream.materials: Action.materials_read, Stream.review: Action.materials_review}


# The key a stream's cursor and its events carry on the hub (distinct from forum streams).
def hub_key(stream: Stream) -> str:
    return f"materials.{stream.value}" if stream is Stream.review else stream.value


@dataclass(frozen=True, slots=True)
class Change:
    stream: Stream
    seq: int
    frame: str

    def event(self) -> dict[str, Any]:
        return events.stream(hub_key(self.stream), self.seq, self.frame)


async def record(
    tx: AsyncSession, project_id: int, stream: Stream, kind: str, **payload: Any
) -> Change:
    """Takes the stream's next seq (the counter row stays locked until commit, so seqs commit
    in order) and stores the push with it, in the caller's transaction."""
    await insert_missing(
        tx,
        MaterialStream,
        ["project_id", "stream"],
        project_id=project_id,
        stream=stream.value,
        last_seq=0,
    )
    result = await tx.exec(
        update(MaterialStream)
        .where(
            col(MaterialStream.project_id) == project_id,
            col(MaterialStream.stream) == stream.value,
        )
        .values(last_seq=col(MaterialStream.last_seq) + 1)
        .returning(col(MaterialStream.last_seq))
    )
    seq = int(result.scalar_one())
    frame = push(kind, stream=stream.value, seq=seq, **payload)
    tx.add(MaterialEvent(project_id=project_id, stream=stream.value, seq=seq, frame=frame))
    return Change(stream, seq, frame)


class MaterialsBacklog:
    """A stream's stored frames: replay sends exactly what live delivery would have sent."""

    def __init__(self, project_id: int, stream: Stream) -> None:
        self.project_id = project_id
        self.stream = stream

    async def read(self, tx: AsyncSession, since: int | None, most: int) -> Pending:
        found = await tx.exec(
            select(MaterialStream.last_seq).where(
                MaterialStream.project_id == self.project_id,
                MaterialStream.stream == self.stream.value,
            )
        )
        newest = found.first() or 0
        if since is None:
            return Pending([], True, None, newest)
        if since > newest:
            return Pending([], False, "unknown_position", newest)
        rows = await tx.exec(
            select(MaterialEvent.seq, MaterialEvent.frame)
            .where(
                MaterialEvent.project_id == self.project_id,
                MaterialEvent.stream == self.stream.value,
                col(MaterialEvent.seq) > since,
            )
            .order_by(col(MaterialEvent.seq))
            .limit(most + 1)
        )
        frames = [(seq, frame) for seq, frame in rows.all()]
        if len(frames) > most:
            return Pending([], False, "too_far_behind", newest)
        return Pending(frames, True, None, newest)

    def resync(self, reason: str) -> str:
        return push("materials.resync", stream=self.stream.value, reason=reason)
