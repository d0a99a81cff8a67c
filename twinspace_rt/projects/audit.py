"""The audit log: every administration and moderation action, readable by teachers."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.storage.models import AuditEntry


def record(
    tx: AsyncSession,
    actor: Member,
    action: str,
    target_user_id: int | None = None,
    **details: Any,
) -> None:
    """Added to the caller's transaction: the entry exists exactly when the action does."""
    tx.add(
        AuditEntry(
            project_id=actor.project_id,
            actor_id=actor.user_id,
            action=action,
            target_user_id=target_user_id,
            details=details,
        )
    )


async def entries(
    tx: AsyncSession, project_id: int, before: int | None, limit: int
) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.project_id == project_id)
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    found = await tx.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit))
    return list(found)
