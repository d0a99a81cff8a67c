"""Shared-document tables: the catalogue, the update log with its snapshot, and versions.

A document's content is its ``snapshot`` (one merged Yjs update) plus every row of
``doc_updates`` that belongs to it. Compaction folds rows into the snapshot and deletes them in
one transaction, guarded by ``snapshot_version``, so the content is never held nowhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, LargeBinary, SQLModel, String, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import NAME_MAX, utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

DOC_NAME_MAX = 64
VERSION_NAME_MAX = 120


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    # The room name of the y-websocket URL: /yjs/{project_id}/{name}.
    name: str = Field(max_length=DOC_NAME_MAX)
    title: str = Field(max_length=NAME_MAX)
    kind: str = Field(sa_type=String(16))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_edited_by: int | None = Field(default=None, foreign_key="users.id")
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snapshot: bytes = Field(default=b"", sa_type=LargeBinary)
    snapshot_version: int = 0
    # Policy actions (space-separated) needed beyond `doc.read` / `doc.edit`, set by the feature
    # that owns the document (pages: a draft needs `page.read_drafts`); `owner` names it.
    read_requires: str = Field(default="", sa_type=String(64))
    edit_requires: str = Field(default="", sa_type=String(64))
    owner: str | None = Field(default=None, sa_type=String(16))


class DocUpdate(SQLModel, table=True):
    """One accepted Yjs update (v1), stored before anyone else received it."""

    __tablename__ = "doc_updates"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    data: bytes = Field(sa_type=LargeBinary)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DocVersion(SQLModel, table=True):
    """The whole state of a document at one moment, named by a teacher or taken automatically."""

    __tablename__ = "doc_versions"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    name: str = Field(max_length=VERSION_NAME_MAX)
    auto: bool = False
    state: bytes = Field(sa_type=LargeBinary)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DocQuarantine(SQLModel, table=True):
    """A stored update (or snapshot) that does not apply, moved out of the document's content.

    Written before issue 12's checks existed, or by a node that lacked them: loading skips it,
    and keeps it here, with why, so that nothing is silently thrown away.
    """

    __tablename__ = "doc_quarantine"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    update_id: int | None = None  # the row of doc_updates it was; None for a snapshot
    data: bytes = Field(sa_type=LargeBinary)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    quarantined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reason: str = Field(max_length=200)


# Shared documents are collaborative content: the text stays, who wrote what is unlinked.
declare(
    TablePrivacy(
        "documents",
        users={"created_by": Erase.pseudonymise, "last_edited_by": Erase.unlink},
        plain=("name", "title", "kind", "read_requires", "edit_requires", "owner"),
        collaborative=True,
        export="documents",
    ),
    TablePrivacy(
        "doc_updates",
        users={"user_id": Erase.unlink},
        scope="document_id>documents",
        collaborative=True,
        export="document_edits",
    ),
    TablePrivacy(
        "doc_versions",
        users={"created_by": Erase.unlink},
        plain=("name",),
        scope="document_id>documents",
        collaborative=True,
        export="document_versions",
    ),
    TablePrivacy(
        "doc_quarantine",
        users={"user_id": Erase.unlink},
        plain=("reason",),
        scope="document_id>documents",
        collaborative=True,
    ),
)
