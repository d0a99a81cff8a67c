"""Named and automatic versions, and restoring one as a forward update.

A restore never resets history: clients that hold the old history would duplicate content. It
rebuilds the version in a scratch replica, applies everything written since on top of it under
an undo manager, and undoes that: the undo is an ordinary new update, computed against the
current state, that every client merges like any other edit.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from pycrdt import Doc, UndoManager
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.documents import store
from twinspace_rt.documents.content import root
from twinspace_rt.documents.guard import apply, refusing
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.document_models import DocVersion
from twinspace_rt.storage.engine import Database


async def save(
    tx: AsyncSession,
    db: Database,
    document_id: int,
    name: str,
    auto: bool,
    user_id: int | None,
) -> DocVersion:
    version = DocVersion(
        document_id=document_id,
        name=name,
        auto=auto,
        state=await store.state(db, document_id),
        created_by=user_id,
    )
    tx.add(version)
    await tx.flush()
    return version


async def save_auto(db: Database, document_id: int) -> None:
    name = "auto " + datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    async with db.transaction() as tx:
        await save(tx, db, document_id, name, True, None)


async def listed(tx: AsyncSession, document_id: int) -> list[DocVersion]:
    found = await tx.exec(
        select(DocVersion)
        .where(DocVersion.document_id == document_id)
        .order_by(col(DocVersion.id).desc())
    )
    return list(found)


async def get(tx: AsyncSession, document_id: int, version_id: int) -> DocVersion:
    version = await tx.get(DocVersion, version_id)
    if version is None or version.document_id != document_id:
        raise AppError(ErrorCode.not_found, f"No version {version_id} of this document.")
    return version


def restoring_update(kind: str, version_state: bytes, current_state: bytes) -> bytes:
    """The forward update that turns the current content back into the version's. Both states
    hold what members wrote, so every pycrdt call is guarded: a failure is `BadUpdate`."""
    scratch: Doc[Any] = Doc()
    apply(scratch, version_state, "the version")
    with refusing("the restore"):
        undo = UndoManager(scopes=[root(scratch, kind)], capture_timeout_millis=0)
    apply(scratch, current_state, "the current content")
    with refusing("the restore"):
        before = scratch.get_state()
        while undo.undo():
            pass
        return scratch.get_update(before)


async def restoring(kind: str, version_state: bytes, current_state: bytes) -> bytes:
    return await asyncio.to_thread(restoring_update, kind, version_state, current_state)
