"""Privacy tables: per-project retention and erasure settings, the durable erasure and export
jobs, and the cluster-wide lease that makes the retention run once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import JSON, Column, Field, SQLModel, String, UTCDateTime

from twinspace_rt.storage.models import utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare


class PrivacySettings(SQLModel, table=True):
    """A project's choices; a project without a row uses the server's defaults (settings.py).

    ``closed_since`` is noted by the retention run when it first sees the project closed (and
    cleared when it is open again): a closed project's content goes ``closed_months`` later.
    """

    __tablename__ = "privacy_settings"

    project_id: int = Field(foreign_key="projects.id", primary_key=True)
    # "blank": authored messages and posts read "(removed)"; "delete": they become deleted
    # tombstones. Either way the thread around them stays.
    erase_mode: str = Field(default="blank", sa_type=String(16))
    chat_days: int | None = None
    closed_months: int | None = None
    audit_years: int | None = None
    materials_days: int | None = None
    journal_days: int | None = None
    closed_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PrivacyJob(SQLModel, table=True):
    """One erasure or export, run in batches by any node that holds its lease.

    ``step`` is the number of plan steps finished, so a node that takes over a job after a
    crash goes on from there (each step is idempotent, so one repeated is harmless).
    An erasure walks each project in ``projects`` with that project's ``erase_mode``, then
    (for a whole account) what belongs to no project. ``subject_user_id`` is cleared when an
    erasure finishes: what stays is the pseudonymous account (``placeholder_id``) that now
    holds what was kept.
    """

    __tablename__ = "privacy_jobs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)
    subject_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    placeholder_id: int | None = Field(default=None, foreign_key="users.id")
    requested_by: int | None = Field(default=None, foreign_key="users.id")
    # The projects an erasure walks, fixed when it is requested (memberships go during it).
    projects: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="en", sa_type=String(8))
    state: str = Field(default="pending", sa_type=String(16), index=True)
    step: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    file_name: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, max_length=200)


class PrivacyLease(SQLModel, table=True):
    """A named lease taken by compare-and-set: whoever moves ``until`` forward holds it."""

    __tablename__ = "privacy_leases"

    name: str = Field(primary_key=True, max_length=32)
    holder: str | None = Field(default=None, max_length=64)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


declare(
    TablePrivacy("privacy_settings", plain=("erase_mode",)),
    TablePrivacy(
        "privacy_jobs",
        users={
            "subject_user_id": Erase.custom,
            "placeholder_id": Erase.custom,
            "requested_by": Erase.pseudonymise,
        },
        plain=("kind", "projects", "language", "state", "file_name", "error"),
        why="An erasure's subject is cleared when it ends; the member's exports are deleted "
        "with their files; the placeholder is the pseudonym itself.",
    ),
    TablePrivacy("privacy_leases", plain=("name", "holder"), scope=None),
)
