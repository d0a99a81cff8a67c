"""Materials: uploads, processing and the blob store."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class MaterialSettings(BaseSettings):
    """Materials: uploads, processing and the blob store."""

    blob_dir: Path | None = Field(
        None, description="Folder of the local blob store. Empty: `<data_dir>/blobs`."
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="S3-compatible endpoint (`http://s3.internal:8333`) for materials' bytes; "
        "empty: the local blob store. Nodes of a cluster must share one store.",
    )
    s3_bucket: str = Field("twinspace", min_length=3, description="The S3 bucket.")
    s3_region: str = Field("us-east-1", description="The S3 region name.")
    s3_access_key: str | None = Field(None, description="S3 access key id.")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret access key.")
    materials_chunk_bytes: int = Field(
        5 * 1024 * 1024,
        ge=64 * 1024,
        le=64 * 1024 * 1024,
        description="Size of one stored part of an upload (each is flushed before its bytes "
        "count); with S3 also the multipart part size held in memory (at least 5 MiB there).",
    )
    materials_upload_expiry_seconds: int = Field(
        86400, ge=60, description="An unfinished upload is deleted this long after it began."
    )
    materials_project_quota_bytes: int = Field(
        5 * 1024**3,
        ge=1,
        description="Bytes of materials (and uploads in progress) one project may hold.",
    )
    materials_image_max_bytes: int = Field(
        10 * 1000**2, ge=1, description="Largest image upload (eTwinning: 10 MB)."
    )
    materials_media_max_bytes: int = Field(
        100 * 1000**2, ge=1, description="Largest video, audio or file upload (100 MB)."
    )
    materials_media_max_seconds: float = Field(
        3600, gt=0, description="Longest video or audio (eTwinning: one hour)."
    )
    materials_image_max_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Largest image (width × height) decoded; above, it is refused as a "
        "possible decompression bomb (Pillow's own limit is 89 MP).",
    )
    materials_link_seconds: int = Field(
        600,
        ge=10,
        le=86400,
        description="Lifetime of a signed link to a material's bytes (for `<img>`, `<video>`).",
    )
    materials_workers: int = Field(
        1, ge=0, le=16, description="Processing jobs this node runs at once (0: none here)."
    )
    materials_job_lease_seconds: float = Field(
        300,
        gt=0,
        description="A job whose worker has not finished after this long is taken over by "
        "another worker (a node that crashed mid-processing).",
    )
