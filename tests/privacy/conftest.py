"""Privacy fixtures: the real S3-compatible server the materials tests start (exports are kept
in the blob store, so a cluster's nodes all serve them)."""

from __future__ import annotations

from tests.materials.conftest import s3_url

__all__ = ["s3_url"]
