"""reports: who decided about a report, when and what (the teachers' reports inbox, issue 17)

Revision ID: 0008_client
Revises: 0007_pages
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_client"
down_revision = "0007_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("resolved_at", sqlmodel.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(16), nullable=True))
        batch.create_foreign_key("fk_reports_resolved_by", "users", ["resolved_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("fk_reports_resolved_by", type_="foreignkey")
        batch.drop_column("resolution")
        batch.drop_column("resolved_by")
        batch.drop_column("resolved_at")
