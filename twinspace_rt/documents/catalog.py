"""A project's documents: create, find, list, rename and delete their catalogue rows.

A document may belong to a feature (``owner``, e.g. a page's body) that asks for more than
``doc.read`` / ``doc.edit`` (``read_requires`` / ``edit_requires``, policy actions): every way
in (REST, the Yjs socket) finds documents here, so the requirement is checked in one place, and
the documents package needs to know nothing of the feature.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
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


async def create(
    tx: AsyncSession,
    member: Member,
    name: str,
    title: str,
    kind: str,
    owner: str | None = None,
) -> Document:
    document = Document(
        project_id=member.project_id,
        name=name,
        title=title,
        kind=kind,
        created_by=member.user_id,
        owner=owner,
    )
    await _store(tx, document)
    audit.record(tx, member, "doc.create", name=name, title=title, kind=kind)
    return document


def _actions(required: str) -> list[Action]:
    return [Action(name) for name in required.split()]


def may_open(member: Member, document: Document) -> bool:
    return all(can(member, action) for action in _actions(document.read_requires))


def read_actions(document: Document) -> tuple[Action, ...]:
    """What opening this document asks beyond `doc.read` (all of them; none: everyone)."""
    return tuple(_actions(document.read_requires))


def edit_actions(document: Document) -> tuple[Action, ...]:
    """What a socket on this document needs, beyond `doc.edit`, to write."""
    return tuple(_actions(document.edit_requires))


async def listed(tx: AsyncSession, member: Member) -> list[Document]:
    """The documents list: a feature's documents are reached through that feature."""
    found = await tx.exec(
        select(Document)
        .where(
            Document.project_id == member.project_id,
            col(Document.deleted_at).is_(None),
            col(Document.owner).is_(None),
        )
        .order_by(col(Document.id))
    )
    return [document for document in found if may_open(member, document)]


async def get(tx: AsyncSession, member: Member, document_id: int) -> Document:
    document = await tx.get(Document, document_id)
    if (
        document is None
        or document.project_id != member.project_id
        or document.deleted_at is not None
        or not may_open(member, document)
    ):
        raise AppError(ErrorCode.not_found, f"No document {document_id} in this project.")
    return document


async def by_name(tx: AsyncSession, member: Member, name: str) -> Document:
    found = await tx.exec(
        select(Document).where(
            Document.project_id == member.project_id,
            Document.name == name,
            col(Document.deleted_at).is_(None),
        )
    )
    document = found.first()
    if document is None or not _NAME_RE.match(name) or not may_open(member, document):
        raise AppError(ErrorCode.not_found, f"No document {name!r} in this project.")
    return document


async def by_ids(tx: AsyncSession, document_ids: list[int]) -> list[Document]:
    """Rows of open documents, to re-check their sockets (`DocumentRegistry._recheck`)."""
    if not document_ids:
        return []
    found = await tx.exec(select(Document).where(col(Document.id).in_(document_ids)))
    return list(found)


def require_unowned(document: Document) -> None:
    """A feature's document is renamed and deleted with that feature's object."""
    if document.owner is not None:
        raise AppError(
            ErrorCode.conflict, f"This document belongs to a {document.owner}; change it there."
        )


async def update(
    tx: AsyncSession,
    member: Member,
    document: Document,
    title: str | None,
    name: str | None,
) -> Document:
    require_unowned(document)
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


async def delete(
    tx: AsyncSession, member: Member, document: Document, by_owner: bool = False
) -> None:
    """Kept as a tombstone (teachers may audit it); its name is freed for a new document."""
    if not by_owner:
        require_unowned(document)
    audit.record(tx, member, "doc.delete", document_id=document.id, name=document.name)
    document.deleted_at = utcnow()
    document.name = f"~{document.id}"
    tx.add(document)
    await tx.flush()
