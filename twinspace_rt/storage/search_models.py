"""Tables of "What's new" and search for documents: their text index, and read marks.

A document's body (a page's or one of the Documents list) is a Yjs document, which no database
engine can search. ``doc_texts`` holds each document's title and plain text as the full-text
engines need it (FTS5 on SQLite, a GIN expression index on PostgreSQL); search refreshes a row
when its document was renamed or edited since (`search/texts.py`). ``doc_reads`` says when a
member last opened a document (a page is opened through its document). Neither has a foreign
key to ``documents``: a document is deleted without knowing about them, and rows of one that is
gone never match (search and counts start from the documents that exist).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, Text, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import NAME_MAX
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare


class DocText(SQLModel, table=True):
    """The searchable text of one document as of its ``last_edited_at``; ``title`` is what the
    member sees it called (a page's title, or the document's)."""

    __tablename__ = "doc_texts"

    document_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    project_id: int = Field(foreign_key="projects.id", index=True)
    title: str = Field(max_length=NAME_MAX)
    body: str = Field(sa_type=Text)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DocRead(SQLModel, table=True):
    """When a member last opened a document: changes by others after it are "new" to them."""

    __tablename__ = "doc_reads"
    __table_args__ = (UniqueConstraint("user_id", "document_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    document_id: int
    read_at: datetime = Field(sa_type=UTCDateTime)


declare(
    TablePrivacy(
        "doc_texts",
        plain=("title", "body"),
        collaborative=True,
        why="A copy of the documents' shared text made for search: it follows the documents.",
    ),
    TablePrivacy(
        "doc_reads",
        users={"user_id": Erase.delete_row},
        export="document_reads",
    ),
)
