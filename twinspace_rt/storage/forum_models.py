"""Forum tables: forums, threads, posts (forum and bulletin), reactions, read markers, and the
per-project event log that numbers every change for live delivery and resume."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Index, SQLModel, String, Text, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import DESCRIPTION_MAX, utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

TITLE_MAX = 200
BODY_MAX = 20000


class ForumStream(SQLModel, table=True):
    """``last_seq`` numbers every change of one stream (``forum`` or ``bulletin``) of a project.

    Two streams, because every reader of a stream is sent every change of it: pupils read the
    forums but never the bulletin, so the bulletin cannot share the forums' numbers.
    """

    __tablename__ = "forum_streams"
    __table_args__ = (UniqueConstraint("project_id", "stream"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    stream: str = Field(sa_type=String(16))
    last_seq: int = 0


class ForumEvent(SQLModel, table=True):
    """The encoded push of one change, stored with the change: resume replays these frames."""

    __tablename__ = "forum_events"
    __table_args__ = (UniqueConstraint("project_id", "stream", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    stream: str = Field(sa_type=String(16))
    seq: int
    # The post the frame carries, so an edit or deletion can rewrite what resume replays.
    post_id: int | None = Field(default=None, index=True)
    frame: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Forum(SQLModel, table=True):
    __tablename__ = "forums"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    title: str = Field(max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    position: int = 0
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ForumThread(SQLModel, table=True):
    """``last_post_seq`` is the forum-stream seq of its newest post: activity order and keyset."""

    __tablename__ = "forum_threads"
    __table_args__ = (Index("ix_forum_threads_forum_activity", "forum_id", "last_post_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    forum_id: int = Field(foreign_key="forums.id")
    title: str = Field(max_length=TITLE_MAX)
    author_id: int = Field(foreign_key="users.id")
    pinned: bool = False
    locked: bool = False
    post_count: int = 0
    last_post_seq: int = 0
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ForumPost(SQLModel, table=True):
    """A forum reply (``board`` ``forum``, in a thread) or a bulletin post (no thread).

    ``seq`` is the stream seq of its creation, ``version`` of its latest change.
    """

    __tablename__ = "forum_posts"
    __table_args__ = (
        Index("ix_forum_posts_thread_seq", "thread_id", "seq"),
        Index("ix_forum_posts_project_board_seq", "project_id", "board", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    board: str = Field(sa_type=String(16))
    thread_id: int | None = Field(default=None, foreign_key="forum_threads.id")
    seq: int
    version: int
    author_id: int = Field(foreign_key="users.id")
    body: str = Field(sa_type=Text)
    reply_to: int | None = Field(default=None, foreign_key="forum_posts.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by: int | None = Field(default=None, foreign_key="users.id")


class ForumReaction(SQLModel, table=True):
    __tablename__ = "forum_reactions"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="forum_posts.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    emoji: str = Field(max_length=16)


class ForumAttachment(SQLModel, table=True):
    """A material attached to a forum post, in order (`projects/attachments.py`). A removed
    material leaves the row with no material, shown as unavailable; a post takes its rows along."""

    __tablename__ = "forum_attachments"
    __table_args__ = (UniqueConstraint("post_id", "material_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="forum_posts.id", index=True, ondelete="CASCADE")
    material_id: int | None = Field(
        default=None, foreign_key="materials.id", index=True, ondelete="SET NULL"
    )
    position: int = 0


class ThreadRead(SQLModel, table=True):
    __tablename__ = "forum_thread_reads"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="forum_threads.id")
    user_id: int = Field(foreign_key="users.id")
    last_read_seq: int = 0


class BulletinRead(SQLModel, table=True):
    __tablename__ = "bulletin_reads"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    user_id: int = Field(foreign_key="users.id")
    last_read_seq: int = 0


declare(
    TablePrivacy("forum_streams", plain=("stream",)),
    TablePrivacy(
        "forum_events",
        users={"frame": Erase.custom},
        personal=("frame",),
        plain=("stream",),
        why="Stored pushes repeat posts, authors and reactions: rewritten after the rows.",
    ),
    TablePrivacy(
        "forums",
        users={"created_by": Erase.pseudonymise},
        plain=("title", "description"),
    ),
    TablePrivacy(
        "forum_threads",
        users={"author_id": Erase.pseudonymise},
        personal=("title",),
        export="forum_threads",
        why="A thread stays readable for the replies in it; its title stays with it.",
    ),
    TablePrivacy(
        "forum_posts",
        users={"author_id": Erase.authored, "deleted_by": Erase.unlink},
        personal=("body",),
        plain=("board",),
        export="forum_posts",
        export_by=("author_id",),
    ),
    TablePrivacy(
        "forum_reactions",
        users={"user_id": Erase.delete_row},
        plain=("emoji",),
        scope="post_id>forum_posts",
        export="forum_reactions",
    ),
    TablePrivacy("forum_attachments", scope="post_id>forum_posts"),
    TablePrivacy(
        "forum_thread_reads",
        users={"user_id": Erase.delete_row},
        scope="thread_id>forum_threads",
        export="forum_reads",
    ),
    TablePrivacy(
        "bulletin_reads",
        users={"user_id": Erase.delete_row},
        export="forum_reads",
    ),
)
