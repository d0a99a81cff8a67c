"""Materials fixtures: one real S3-compatible server (SeaweedFS) for the whole run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.s3_server import s3_server


@pytest.fixture(scope="session")
async def s3_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder: Path = tmp_path_factory.mktemp("seaweedfs")
    async with s3_server(folder) as url:
        yield url
