"""Chat tables: channels with a monotonic change counter, messages, and what hangs off them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, String, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import NAME_MAX, utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

CHANNEL_NAME_MAX = 32
REPORT_REASON_MAX = 500


class Channel(SQLModel, table=True):
    """``last_seq`` numbers every change in the channel; resuming clients ask for what is newer."""

    __tablename__ = "chat_channels"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    name: str = Field(max_length=CHANNEL_NAME_MAX)
    title: str = Field(max_length=NAME_MAX)
    rule: str = Field(sa_type=String(16))
    last_seq: int = 0
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChatMessage(SQLModel, table=True):
    """``seq`` is fixed at creation; ``version`` is the channel seq of its latest change."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "seq"),
        UniqueConstraint("channel_id", "version"),
        UniqueConstraint("channel_id", "author_id", "client_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="chat_channels.id")
    seq: int
    version: int
    author_id: int = Field(foreign_key="users.id")
    client_key: str = Field(max_length=64)
    text: str
    reply_to: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by: int | None = Field(default=None, foreign_key="users.id")


class Reaction(SQLModel, table=True):
    __tablename__ = "chat_reactions"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="chat_messages.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    emoji: str = Field(max_length=16)


class ChatAttachment(SQLModel, table=True):
    """A material attached to a chat message, in order (`projects/attachments.py`). A removed
    material leaves the row with no material, shown as unavailable; a message takes its rows."""

    __tablename__ = "chat_attachments"
    __table_args__ = (UniqueConstraint("message_id", "material_id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="chat_messages.id", index=True, ondelete="CASCADE")
    material_id: int | None = Field(
        default=None, foreign_key="materials.id", index=True, ondelete="SET NULL"
    )
    position: int = 0


class ReadMarker(SQLModel, table=True):
    __tablename__ = "chat_read_markers"
    __table_args__ = (UniqueConstraint("channel_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="chat_channels.id")
    user_id: int = Field(foreign_key="users.id")
    last_read_seq: int = 0


class Mute(SQLModel, table=True):
    __tablename__ = "chat_mutes"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    user_id: int = Field(foreign_key="users.id")
    until: datetime = Field(sa_type=UTCDateTime)
    muted_by: int = Field(foreign_key="users.id")


class Report(SQLModel, table=True):
    """A member flags content to the teacher administrators."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    reporter_id: int = Field(foreign_key="users.id")
    kind: str = Field(sa_type=String(16))
    target_id: int
    reason: str = Field(max_length=REPORT_REASON_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set once a moderator decides: "dismissed", "deleted" (the message) or "muted" (its author).
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
    resolution: str | None = Field(default=None, sa_type=String(16))


declare(
    TablePrivacy(
        "chat_channels",
        users={"created_by": Erase.unlink},
        plain=("name", "title", "rule"),
    ),
    TablePrivacy(
        "chat_messages",
        users={"author_id": Erase.authored, "deleted_by": Erase.unlink},
        # The idempotency key is the client's choice: it may say anything.
        personal=("text", "client_key"),
        rekey=("client_key",),
        scope="channel_id>chat_channels",
        export="chat_messages",
        export_by=("author_id",),
    ),
    TablePrivacy(
        "chat_reactions",
        users={"user_id": Erase.delete_row},
        plain=("emoji",),
        scope="message_id>chat_messages",
        export="chat_reactions",
    ),
    TablePrivacy("chat_attachments", scope="message_id>chat_messages"),
    TablePrivacy(
        "chat_read_markers",
        users={"user_id": Erase.delete_row},
        scope="channel_id>chat_channels",
        export="chat_read_markers",
    ),
    TablePrivacy(
        "chat_mutes",
        users={"user_id": Erase.delete_row, "muted_by": Erase.pseudonymise},
        export="chat_mutes",
        export_by=("user_id",),
    ),
    TablePrivacy(
        "reports",
        users={"reporter_id": Erase.delete_row, "resolved_by": Erase.unlink},
        personal=("reason",),
        plain=("kind", "resolution"),
        export="reports",
    ),
)
