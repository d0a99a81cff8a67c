"""privacy: per-project retention settings, durable erasure and export jobs, the retention lease

Revision ID: 0009_privacy
Revises: 0008_client
Create Date: 2026-12-06

Issue 19. The retention run takes the ``retention`` lease by compare-and-set, so its row is
made here; a lease row exists before any node needs it.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_privacy"
down_revision = "0008_client"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_settings",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("erase_mode", sa.String(16), nullable=False),
        sa.Column("chat_days", sa.Integer(), nullable=True),
        sa.Column("closed_months", sa.Integer(), nullable=True),
        sa.Column("audit_years", sa.Integer(), nullable=True),
        sa.Column("closed_since", sqlmodel.UTCDateTime(), nullable=True),
    )
    op.create_table(
        "privacy_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=True),
        sa.Column("subject_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("placeholder_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("projects", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("lease_until", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("file_name", sa.String(128), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
    )
    op.create_index("ix_privacy_jobs_project_id", "privacy_jobs", ["project_id"])
    op.create_index("ix_privacy_jobs_subject_user_id", "privacy_jobs", ["subject_user_id"])
    op.create_index("ix_privacy_jobs_state", "privacy_jobs", ["state"])
    leases = op.create_table(
        "privacy_leases",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("until", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("last_run_at", sqlmodel.UTCDateTime(), nullable=True),
    )
    op.bulk_insert(leases, [{"name": "retention"}])


def downgrade() -> None:
    op.drop_table("privacy_leases")
    op.drop_table("privacy_jobs")
    op.drop_table("privacy_settings")
