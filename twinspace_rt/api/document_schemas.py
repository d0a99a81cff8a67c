"""The REST wire format of shared documents (see `api/schemas.py` for the conventions)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from twinspace_rt.api.schemas import Input, Name
from twinspace_rt.documents.catalog import DOC_NAME_PATTERN
from twinspace_rt.documents.content import DocKind
from twinspace_rt.storage.document_models import Document, DocVersion

DocName = Annotated[str, StringConstraints(pattern=DOC_NAME_PATTERN)]


class DocumentCreateIn(Input):
    name: DocName
    title: Name
    kind: DocKind = DocKind.richtext


class DocumentPatchIn(Input):
    name: DocName | None = None
    title: Name | None = None


class DocumentOut(BaseModel):
    id: int
    project_id: int
    name: str
    title: str
    kind: DocKind
    created_by: int
    created_at: datetime
    last_edited_at: datetime | None
    last_edited_by: int | None
    socket: str

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        assert document.id is not None
        return cls(
            id=document.id,
            project_id=document.project_id,
            name=document.name,
            title=document.title,
            kind=DocKind(document.kind),
            created_by=document.created_by,
            created_at=document.created_at,
            last_edited_at=document.last_edited_at,
            last_edited_by=document.last_edited_by,
            socket=f"/yjs/{document.project_id}/{document.name}",
        )


class DocumentListOut(BaseModel):
    documents: list[DocumentOut]


class UpdateOut(BaseModel):
    stored: bool


class VersionCreateIn(Input):
    name: Name


class VersionOut(BaseModel):
    id: int
    name: str
    auto: bool
    created_by: int | None
    created_at: datetime

    @classmethod
    def of(cls, version: DocVersion) -> VersionOut:
        assert version.id is not None
        return cls(
            id=version.id,
            name=version.name,
            auto=version.auto,
            created_by=version.created_by,
            created_at=version.created_at,
        )


class VersionListOut(BaseModel):
    versions: list[VersionOut]


class VersionDiffOut(BaseModel):
    diff: str
