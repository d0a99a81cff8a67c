"""The blob store's two backends against the same expectations: the local disk and a real
S3-compatible server (SeaweedFS)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinspace_rt.materials.blobs import BlobStore, LocalBlobStore, put_content
from twinspace_rt.materials.s3 import S3BlobStore
from twinspace_rt.settings import Settings

MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_url: str
) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        s3_endpoint_url=s3_url,
        s3_bucket=f"t{uuid.uuid4().hex[:12]}",
        s3_access_key="any",
        s3_secret_key="any",
        materials_chunk_bytes=5 * MiB,
    )
    s3 = S3BlobStore(settings)
    await s3.start()
    yield s3
    await s3.close()


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def test_a_multi_part_blob_round_trips_with_ranges(store: BlobStore) -> None:
    data = os.urandom(11 * MiB + 123)
    assert await store.put("projects/1/big", _chunks(data, 1 * MiB)) == len(data)
    assert await store.size("projects/1/big") == len(data)
    assert await _read(store, "projects/1/big") == data
    assert (
        await _read(store, "projects/1/big", 5 * MiB - 7, 5 * MiB + 9)
        == data[5 * MiB - 7 : 5 * MiB + 9]
    )
    assert await _read(store, "projects/1/big", len(data) - 10) == data[-10:]


async def test_small_blobs_list_and_delete_by_prefix(store: BlobStore) -> None:
    for name in ("a", "b", "c"):
        await store.put(f"parts/u1/{name}", _chunks(name.encode() * 10, 4))
    await store.put("parts/u2/a", _chunks(b"keep", 4))
    assert await store.keys("parts/u1/") == ["parts/u1/a", "parts/u1/b", "parts/u1/c"]
    await store.delete("parts/u1/b")
    assert await store.size("parts/u1/b") is None
    await store.delete_prefix("parts/u1/")
    assert await store.keys("parts/u1/") == []
    assert await _read(store, "parts/u2/a") == b"keep"


async def test_a_failed_write_leaves_no_blob(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(6 * MiB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put("projects/1/half", broken())
    assert await store.size("projects/1/half") is None


async def test_content_is_stored_once_per_project(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "photo.bin"
    source.write_bytes(os.urandom(1000))
    first = await put_content(store, 7, source, MiB)
    second = await put_content(store, 7, source, MiB)
    assert first == second
    assert await store.keys("projects/7/") == [f"projects/7/{first[0]}"]


async def test_keys_that_climb_out_are_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for key in ("../x", "projects/../../etc", "/abs", "a//b"):
        with pytest.raises(ValueError):
            await store.put(key, _chunks(b"x", 1))
