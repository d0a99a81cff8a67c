"""Erasure, export and retention (docs/PRIVACY.md explains each)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class PrivacySettings(BaseSettings):
    """Erasure, export and retention (docs/PRIVACY.md explains each)."""

    privacy_erase_mode: Literal["blank", "delete"] = Field(
        "blank",
        description="What erasing a member does to their chat messages and posts where the "
        'project chose nothing: `blank` (they read "(removed)") or `delete` (deleted '
        "tombstones). Threads and replies stay either way.",
    )
    privacy_batch_size: int = Field(
        200, ge=1, le=10000, description="Rows one erasure, export or retention batch touches."
    )
    privacy_batch_pause_ms: float = Field(
        10, ge=0, le=10000, description="Pause between batches, so live traffic goes first."
    )
    privacy_job_lease_seconds: float = Field(
        60,
        gt=0,
        description="A node running an erasure or export renews its lease after each batch; "
        "if it dies, another node (or the same one restarted) resumes the job this long after.",
    )
    privacy_poll_seconds: float = Field(
        5, gt=0, description="How often a node looks for privacy jobs requested elsewhere."
    )
    privacy_export_link_seconds: int = Field(
        900, ge=60, le=7 * 86400, description="Lifetime of an export's download link."
    )
    retention_interval_seconds: float = Field(
        3600, gt=0, description="How often the retention run happens (once across the cluster)."
    )
    retention_chat_days: int = Field(
        365, ge=1, description="Default age after which chat messages are deleted."
    )
    retention_closed_project_months: int = Field(
        12, ge=1, description="Default months after which a closed project is deleted whole."
    )
    retention_audit_years: int = Field(
        3, ge=1, description="Default age, in years, after which audit entries are deleted."
    )
    retention_materials_days: int = Field(
        730,
        ge=1,
        description="Default age after which materials (with their stored files) are deleted.",
    )
    retention_journal_days: int = Field(
        730,
        ge=1,
        description="Default age after which journal posts are deleted (a post's comments go "
        "with it).",
    )
    retention_login_days: int = Field(
        90, ge=1, le=3650, description="Age after which login history entries are deleted."
    )
    privacy_export_keep_hours: float = Field(
        24,
        gt=0,
        le=24 * 30,
        description="A finished export's ZIP is deleted from the blob store this long after "
        "it was built; its requester asks for a new one after that.",
    )
