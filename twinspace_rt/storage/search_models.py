"""Tables of "What's new" and search for pages: the text index of pages, and read marks.

A page's body lives in a Yjs document, which no database engine can search. ``page_texts``
holds each page's title and plain text as the full-text engines need it (FTS5 on SQLite, a GIN
expression index on PostgreSQL); search refreshes a row when its page was renamed or its
document edited since (`search/pages.py`). ``page_reads`` says when a member last opened a page.
Neither has a foreign key to ``pages``: a page is deleted without knowing about them, and rows
of a page that is gone never match (search and counts start from the pages that exist).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, Text, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.page_models import PAGE_TITLE_MAX
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare


class PageText(SQLModel, table=True):
    """The searchable text of one page as of its document's ``last_edited_at``."""

    __tablename__ = "page_texts"

    page_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    project_id: int = Field(foreign_key="projects.id", index=True)
    title: str = Field(max_length=PAGE_TITLE_MAX)
    body: str = Field(sa_type=Text)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PageRead(SQLModel, table=True):
    """When a member last opened a page: changes by others after it are "new" to them."""

    __tablename__ = "page_reads"
    __table_args__ = (UniqueConstraint("user_id", "page_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    page_id: int
    read_at: datetime = Field(sa_type=UTCDateTime)


declare(
    TablePrivacy(
        "page_texts",
        plain=("title", "body"),
        collaborative=True,
        why="A copy of the pages' shared text made for search: it follows the pages.",
    ),
    TablePrivacy(
        "page_reads",
        users={"user_id": Erase.delete_row},
        export="page_reads",
    ),
)
