"""Materials fixtures: one real S3-compatible server (SeaweedFS) for the whole run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.s3_server import s3_server
from twinspace_rt.settings import Settings


@pytest.fixture(scope="session")
async def s3_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder: Path = tmp_path_factory.mktemp("seaweedfs")
    async with s3_server(folder) as url:
        yield url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Smaller parts than production's 5 MiB, so a 12 MB upload is many of them."""
    return settings.model_copy(update={"materials_chunk_bytes": 1024 * 1024})


@pytest.fixture
async def room(live: Live) -> Room:
    return await make_room(live.http, live.services, "m")
