"""The durable tables. Changing one means writing an Alembic migration next to it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import JSON, Column, Field, SQLModel, String, UniqueConstraint, UTCDateTime

from twinspace_rt.auth.policy import ProjectStatus, Role
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

NAME_MAX = 120
USERNAME_MAX = 64
DESCRIPTION_MAX = 2000


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccountKind(StrEnum):
    teacher = "teacher"
    pupil = "pupil"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=USERNAME_MAX, unique=True, index=True)
    display_name: str = Field(max_length=NAME_MAX)
    kind: AccountKind = Field(sa_type=String(16))
    country: str | None = Field(default=None, max_length=2)
    password_hash: str | None = Field(default=None, max_length=255)
    must_change_password: bool = False
    # Bumped on password reset: every token issued before it stops working.
    token_generation: int = 0
    # "issuer|subject" for accounts created from the identity platform's tokens.
    external_id: str | None = Field(default=None, max_length=512, unique=True)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_pupil(self) -> bool:
        return self.kind == AccountKind.pupil


class Project(SQLModel, table=True):
    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    status: ProjectStatus = Field(default=ProjectStatus.active, sa_type=String(16))
    founder_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: Role = Field(sa_type=String(16))
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who did what to whom: administration and moderation, listed to teachers."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    actor_id: int = Field(foreign_key="users.id")
    action: str = Field(max_length=64)
    target_user_id: int | None = Field(default=None, foreign_key="users.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# What these tables hold about people (`storage/privacy.py`, docs/PRIVACY.md).
declare(
    TablePrivacy(
        "users",
        users={"created_by": Erase.unlink},
        personal=("username", "display_name", "country", "password_hash", "external_id"),
        plain=("kind",),
        scope=None,
        export="account",
        export_by=("id",),
        secret=("password_hash",),
        why="The account: deleted by an erasure of the account, kept by one of a project.",
    ),
    TablePrivacy(
        "projects",
        users={"founder_id": Erase.pseudonymise},
        plain=("name", "description", "status"),
        scope="id",
        why="The project is the school's, not the founder's: it stays, credited to a pseudonym.",
    ),
    TablePrivacy(
        "memberships",
        users={"user_id": Erase.delete_row},
        plain=("role",),
        export="account",
    ),
    TablePrivacy(
        "audit_log",
        users={
            "actor_id": Erase.custom,
            "target_user_id": Erase.custom,
            "details": Erase.custom,
        },
        personal=("details",),
        plain=("action",),
        export="audit",
        export_by=("actor_id", "target_user_id"),
        why="Entries about the member stay as a pseudonymous record without their details.",
    ),
)
