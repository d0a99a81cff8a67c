"""materials: albums and folders, tus uploads, the processing queue, materials, their streams

Revision ID: 0010_materials
Revises: 0009_privacy
Create Date: 2026-12-06

Issue 15. Upload state lives here (not on one node's disk) so an upload begun on one node can
be finished on another; the job queue is a table so a crash mid-processing resumes.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_materials"
down_revision = "0009_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "material_settings",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("pupil_uploads", sa.String(8), nullable=False),
    )
    op.create_table(
        "material_collections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pupils_may_upload", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_material_collections_project_id", "material_collections", ["project_id"])
    op.create_table(
        "material_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column(
            "collection_id", sa.Integer(), sa.ForeignKey("material_collections.id"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("declaration", sa.String(200), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("error", sa.String(40), nullable=True),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("lock_token", sa.String(32), nullable=True),
        sa.Column("lock_until", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_material_uploads_project_id", "material_uploads", ["project_id"])
    op.create_index("ix_material_uploads_expires_at", "material_uploads", ["expires_at"])
    op.create_table(
        "material_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("upload_id", sa.String(32), sa.ForeignKey("material_uploads.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_material_jobs_status", "material_jobs", ["status", "lease_until"])
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column(
            "collection_id", sa.Integer(), sa.ForeignKey("material_collections.id"), nullable=False
        ),
        sa.Column("uploader_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("blobs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("declaration", sa.String(200), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_materials_project_id", "materials", ["project_id"])
    op.create_index("ix_materials_collection_id", "materials", ["collection_id"])
    op.create_table(
        "material_streams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "stream"),
    )
    op.create_table(
        "material_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("frame", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("project_id", "stream", "seq"),
    )


def downgrade() -> None:
    for table in (
        "material_events",
        "material_streams",
        "materials",
        "material_jobs",
        "material_uploads",
        "material_collections",
        "material_settings",
    ):
        op.drop_table(table)
