"""Pages, the journal and the public showcase of a project.

A page's body is a document of the documents layer (``documents.id``); the page row holds only
where it sits in the menu, its title, its state and its visibility. Journal posts and their
comments share one table (a comment has a ``parent_id``); likes are one row per member.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Index, SQLModel, String, Text, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

PAGE_TITLE_MAX = 120
JOURNAL_BODY_MAX = 10000
SLUG_MAX = 40


class Page(SQLModel, table=True):
    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_project_parent", "project_id", "parent_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    parent_id: int | None = Field(default=None, foreign_key="pages.id")
    position: int = 0
    title: str = Field(max_length=PAGE_TITLE_MAX)
    document_id: int = Field(foreign_key="documents.id")
    state: str = Field(default="draft", sa_type=String(16))
    visibility: str = Field(default="all", sa_type=String(16))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JournalPost(SQLModel, table=True):
    """A post (``parent_id`` null) or a comment on one. ``state`` is ``published`` or
    ``review`` (a pupil's post waiting for a teacher); ``version`` is its latest stream seq."""

    __tablename__ = "journal_posts"
    __table_args__ = (Index("ix_journal_posts_project_parent", "project_id", "parent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    parent_id: int | None = Field(default=None, foreign_key="journal_posts.id")
    author_id: int = Field(foreign_key="users.id")
    body: str = Field(sa_type=Text)
    state: str = Field(default="published", sa_type=String(16))
    pinned: bool = False
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by: int | None = Field(default=None, foreign_key="users.id")
    approved_by: int | None = Field(default=None, foreign_key="users.id")


class JournalLike(SQLModel, table=True):
    __tablename__ = "journal_likes"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="journal_posts.id", index=True)
    user_id: int = Field(foreign_key="users.id")


class JournalAttachment(SQLModel, table=True):
    """A material attached to a journal post, in order (`projects/attachments.py`). A removed
    material leaves the row with no material, shown as unavailable; a post takes its rows."""

    __tablename__ = "journal_attachments"
    __table_args__ = (UniqueConstraint("post_id", "material_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="journal_posts.id", index=True, ondelete="CASCADE")
    material_id: int | None = Field(
        default=None, foreign_key="materials.id", index=True, ondelete="SET NULL"
    )
    position: int = 0


class JournalRead(SQLModel, table=True):
    """Up to which journal post (by id) a member has read: the unread count of "What's new"."""

    __tablename__ = "journal_reads"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    user_id: int = Field(foreign_key="users.id")
    last_read_id: int = 0


class Publishing(SQLModel, table=True):
    """A project's choices about the journal and the public showcase (one row, made on demand).

    ``pupil_posts``: ``off``, ``review`` or ``open``. The showcase is on while ``showcase_on``;
    ``pupil_names`` is ``first_name`` or ``none``.
    """

    __tablename__ = "publishing"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", unique=True)
    pupil_posts: str = Field(default="review", sa_type=String(16))
    slug: str | None = Field(default=None, max_length=SLUG_MAX, unique=True)
    showcase_on: bool = False
    indexable: bool = False
    pupil_names: str = Field(default="first_name", sa_type=String(16))
    languages: str = Field(default="en", max_length=64)


class ShowcaseItem(SQLModel, table=True):
    """One page or journal post a teacher administrator chose for the showcase."""

    __tablename__ = "showcase_items"
    __table_args__ = (UniqueConstraint("project_id", "kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    kind: str = Field(sa_type=String(16))
    target_id: int


declare(
    TablePrivacy(
        "pages",
        users={"created_by": Erase.pseudonymise},
        plain=("title", "state", "visibility"),
        collaborative=True,
        export="pages",
        why="A page is the project's shared content, like its document: it stays whole.",
    ),
    TablePrivacy(
        "journal_posts",
        users={
            "author_id": Erase.authored,
            "deleted_by": Erase.unlink,
            "approved_by": Erase.unlink,
        },
        personal=("body",),
        plain=("state",),
        export="journal_posts",
        export_by=("author_id",),
    ),
    TablePrivacy(
        "journal_likes",
        users={"user_id": Erase.delete_row},
        scope="post_id>journal_posts",
        export="journal_likes",
    ),
    TablePrivacy("journal_attachments", scope="post_id>journal_posts"),
    TablePrivacy(
        "journal_reads",
        users={"user_id": Erase.delete_row},
        export="journal_reads",
    ),
    TablePrivacy(
        "publishing",
        plain=("pupil_posts", "slug", "pupil_names", "languages"),
    ),
    TablePrivacy("showcase_items", plain=("kind",)),
)
