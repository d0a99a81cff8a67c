"""A project's documents: create, find, list, rename and delete their catalogue rows."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.documents.document import DocRef
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.document_models import Document
from twinspace_rt.storage.models import utcnow

DOC_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME_RE = re.compile(DOC_NAME_PATTERN)


def ref(document: Document) -> DocRef:
    assert document.id is not None
    return DocRef(document.id, document.project_id, document.kind)


async def create(tx: AsyncSession, member: Member, name: str, title: str, kind: str) -> Document:
    document = Document(
        project_id=member.project_id,
        name=name,
        title=title,
        kind=kind,
        created_by=member.user_id,
    )
    await _store(tx, document)
    audit.record(tx, member, "doc.create", name=name, title=title, kind=kind)
    return document


async def listed(tx: AsyncSession, project_id: int) -> list[Document]:
    found = await tx.exec(
        select(Document)
        .where(Document.project_id == project_id, col(Document.deleted_at).is_(None))
        .order_by(col(Document.id))
    )
    return list(found)


async def get(tx: AsyncSession, project_id: int, document_id: int) -> Document:
    document = await tx.get(Document, document_id)
    if document is None or document.project_id != project_id or document.deleted_at is not None:
        raise AppError(ErrorCode.not_found, f"No document {document_id} in this project.")
    return document


async def by_name(tx: AsyncSession, project_id: int, name: str) -> Document:
    found = await tx.exec(
        select(Document).where(
            Document.project_id == project_id,
            Document.name == name,
            col(Document.deleted_at).is_(None),
        )
    )
    document = found.first()
    if document is None or not _NAME_RE.match(name):
        raise AppError(ErrorCode.not_found, f"No document {name!r} in this project.")
    return document


async def update(
    tx: AsyncSession,
    member: Member,
    document: Document,
    title: str | None,
    name: str | None,
) -> Document:
    changes: dict[str, str] = {}
    if title is not None and title != document.title:
        changes["title"] = document.title = title
    if name is not None and name != document.name:
        changes["name"] = document.name = name
    if changes:
        await _store(tx, document)
        audit.record(tx, member, "doc.update", document_id=document.id, changes=changes)
    return document


async def _store(tx: AsyncSession, document: Document) -> None:
    """Flushes the row; a name already taken in the project is a conflict, not a crash."""
    tx.add(document)
    try:
        async with tx.begin_nested():
            await tx.flush()
    except IntegrityError as exc:
        raise AppError(ErrorCode.conflict, f"A document named {document.name!r} exists.") from exc


async def delete(tx: AsyncSession, member: Member, document: Document) -> None:
    """Kept as a tombstone (teachers may audit it); its name is freed for a new document."""
    audit.record(tx, member, "doc.delete", document_id=document.id, name=document.name)
    document.deleted_at = utcnow()
    document.name = f"~{document.id}"
    tx.add(document)
    await tx.flush()
