"""Materials tables: albums and folders, uploads in progress, the processing queue, materials,
the project's upload setting, and the event log that numbers every change for resume."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import JSON, Field, Index, SQLModel, String, Text, UniqueConstraint, UTCDateTime

from twinspace_rt.storage.models import DESCRIPTION_MAX, utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

TITLE_MAX = 200
FILENAME_MAX = 255


class MaterialSettings(SQLModel, table=True):
    """Per project: may pupils upload (``off``), only through review (``review``), or freely."""

    __tablename__ = "material_settings"

    project_id: int = Field(foreign_key="projects.id", primary_key=True)
    pupil_uploads: str = Field(default="review", sa_type=String(8))


class MaterialCollection(SQLModel, table=True):
    """An album (images) or a folder (video, audio, files), ordered by ``position``."""

    __tablename__ = "material_collections"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    kind: str = Field(sa_type=String(8))
    title: str = Field(max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    position: int = 0
    pupils_may_upload: bool = True
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MaterialUpload(SQLModel, table=True):
    """One tus upload: its bytes live in the blob store as parts, its state here, so any node
    can continue it. ``lock_until`` marks a PATCH in progress (another one gets 409)."""

    __tablename__ = "material_uploads"

    id: str = Field(primary_key=True, sa_type=String(32))
    project_id: int = Field(foreign_key="projects.id", index=True)
    collection_id: int = Field(foreign_key="material_collections.id")
    user_id: int = Field(foreign_key="users.id")
    filename: str = Field(max_length=FILENAME_MAX)
    title: str = Field(default="", max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    # The uploader's declaration that they may share it, as they sent it, and when.
    declaration: str = Field(default="", max_length=200)
    length: int
    offset: int = 0
    # A pupil's upload under the `review` setting waits for a teacher once processed.
    needs_review: bool = False
    status: str = Field(default="open", sa_type=String(12))
    error: str | None = Field(default=None, sa_type=String(40))
    material_id: int | None = None
    lock_token: str | None = Field(default=None, sa_type=String(32))
    lock_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MaterialJob(SQLModel, table=True):
    """A finished upload waiting to be processed; ``lease_until`` lets any node take over the
    job of a worker that died."""

    __tablename__ = "material_jobs"
    __table_args__ = (Index("ix_material_jobs_status", "status", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    upload_id: str = Field(foreign_key="material_uploads.id", sa_type=String(32))
    status: str = Field(default="pending", sa_type=String(8))
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Material(SQLModel, table=True):
    """A processed image, video, audio or file. ``blobs`` names the stored variants by role
    (``display``, ``small``, ``large``, ``poster``, ``file``) → content digest."""

    __tablename__ = "materials"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    collection_id: int = Field(foreign_key="material_collections.id", index=True)
    uploader_id: int = Field(foreign_key="users.id")
    kind: str = Field(sa_type=String(8))
    title: str = Field(default="", max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    filename: str = Field(max_length=FILENAME_MAX)
    mime: str = Field(sa_type=String(80))
    size: int
    stored_bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    blobs: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="approved", sa_type=String(10))
    position: int = 0
    declaration: str = Field(default="", max_length=200)
    reviewed_by: int | None = Field(default=None, foreign_key="users.id")
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MaterialStream(SQLModel, table=True):
    """``last_seq`` of a project's ``materials`` stream (everyone) or ``review`` (reviewers)."""

    __tablename__ = "material_streams"
    __table_args__ = (UniqueConstraint("project_id", "stream"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    stream: str = Field(sa_type=String(16))
    last_seq: int = 0


class MaterialEvent(SQLModel, table=True):
    """The encoded push of one change, stored with it: resume replays these frames."""

    __tablename__ = "material_events"
    __table_args__ = (UniqueConstraint("project_id", "stream", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    stream: str = Field(sa_type=String(16))
    seq: int
    frame: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MaterialRead(SQLModel, table=True):
    """When a member last marked the project's materials seen ("What's new")."""

    __tablename__ = "material_reads"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    read_at: datetime = Field(sa_type=UTCDateTime)


declare(
    TablePrivacy("material_settings", plain=("pupil_uploads",)),
    TablePrivacy(
        "material_reads",
        users={"user_id": Erase.delete_row},
        export="material_reads",
    ),
    TablePrivacy(
        "material_collections",
        users={"created_by": Erase.pseudonymise},
        plain=("kind", "title", "description"),
        why="An album or folder is the project's: it stays for the materials of others.",
    ),
    TablePrivacy(
        "material_uploads",
        users={"user_id": Erase.custom},
        personal=("filename", "title", "description", "declaration"),
        plain=("id", "status", "error", "lock_token"),
        export="material_uploads",
        export_by=("user_id",),
    ),
    TablePrivacy(
        "material_jobs",
        plain=("upload_id", "status"),
        scope="upload_id>material_uploads",
    ),
    TablePrivacy(
        "materials",
        users={"uploader_id": Erase.custom, "reviewed_by": Erase.unlink},
        personal=("title", "description", "filename", "declaration"),
        plain=("kind", "mime", "status", "blobs"),
        export="materials",
        export_by=("uploader_id",),
        why="Photos, videos and files of children must not outlive the account: the rows, "
        "their stored pushes and unused blobs go (`privacy/materials.py`).",
    ),
    TablePrivacy("material_streams", plain=("stream",)),
    TablePrivacy(
        "material_events",
        personal=("frame",),
        plain=("stream",),
        why="Stored pushes of materials: an erased member's materials' pushes are deleted.",
    ),
)
