"""The blob store: where uploaded bytes and processed materials live.

One interface, two backends: the local disk under the data folder (the embedded default) and
S3-compatible object storage (`materials/s3.py`) for clusters. Keys are plain paths
(``parts/<upload>/<offset>``, ``projects/<id>/<sha256>``). Writes are atomic: a reader sees a
whole blob or none. Everything streams in bounded chunks; no backend holds a whole file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from twinspace_rt.settings import Settings

# What one read yields at most; writers hand in chunks of the upload chunk size.
READ_CHUNK = 256 * 1024
WRITE_BATCH = 1024 * 1024

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def check_key(key: str) -> str:
    """Keys are made by the server; this refuses anything that could climb out of the store."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"bad blob key {key!r}")
    return key


def project_prefix(project_id: int) -> str:
    return f"projects/{project_id}/"


def content_key(project_id: int, digest: str) -> str:
    """Content-addressed within a project: the same bytes twice are stored once."""
    return f"{project_prefix(project_id)}{digest}"


def parts_prefix(upload_id: str) -> str:
    return f"parts/{upload_id}/"


class BlobStore(Protocol):
    # True when ``put`` holds a whole part in memory before storing it (S3's multipart parts):
    # an upload then stores its parts one after another, so memory stays one part.
    buffers_parts: bool

    async def start(self) -> None:
        """Makes the store ready before the server takes requests (S3: the bucket exists)."""
        ...

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Stores the chunks under ``key`` atomically; returns the size."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive; ``None``: to the end), in bounded chunks."""
        ...

    async def size(self, key: str) -> int | None:
        """The blob's size, or ``None`` when there is none."""
        ...

    async def keys(self, prefix: str) -> list[str]: ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    async def ping(self) -> None:
        """Raises unless the store can be reached and written now (readiness)."""
        ...

    async def close(self) -> None: ...


class LocalBlobStore:
    """Files under one folder; a write goes to a temporary file that is renamed into place."""

    buffers_parts = False

    def __init__(self, root: Path) -> None:
        self.root = root

    async def start(self) -> None:
        """Nothing to prepare: folders are made as blobs are written."""

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
        size = 0
        try:
            handle = await asyncio.to_thread(open, temporary, "wb")
            try:
                # Network reads come in ~64 KiB; one thread hop per MiB instead of per read.
                batch = bytearray()
                async for chunk in chunks:
                    size += len(chunk)
                    batch += chunk
                    if len(batch) >= WRITE_BATCH:
                        await asyncio.to_thread(handle.write, batch)
                        batch = bytearray()
                await asyncio.to_thread(_flush, handle, batch)
            finally:
                handle.close()
            await asyncio.to_thread(os.replace, temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return size

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(key), "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            left = None if end is None else end - start
            while left is None or left > 0:
                want = READ_CHUNK if left is None else min(READ_CHUNK, left)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def keys(self, prefix: str) -> list[str]:
        folder = self.root / check_key(prefix.rstrip("/"))

        def walk() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(
                str(p.relative_to(self.root))
                for p in folder.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )

        return await asyncio.to_thread(walk)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def delete_prefix(self, prefix: str) -> None:
        folder = self.root / check_key(prefix.rstrip("/"))
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

    async def ping(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise OSError(f"{self.root} is not writable")

        await asyncio.to_thread(probe)

    async def close(self) -> None:
        return None


def _flush(handle: object, rest: bytes | bytearray) -> None:
    handle.write(rest)  # type: ignore[attr-defined]
    handle.flush()  # type: ignore[attr-defined]
    os.fsync(handle.fileno())  # type: ignore[attr-defined]


async def put_content(
    store: BlobStore, project_id: int, path: Path, chunk_bytes: int
) -> tuple[str, int]:
    """Stores a local file under its digest in the project, unless it is already there."""
    digest = await asyncio.to_thread(file_digest, path)
    key = content_key(project_id, digest)
    size = path.stat().st_size
    if await store.size(key) != size:
        await store.put(key, file_chunks(path, chunk_bytes))
    return digest, size


async def write_local(chunks: AsyncIterator[bytes], path: Path) -> None:
    """A blob (or an upload's parts) into a worker's local file, for decoders that seek."""
    handle = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in chunks:
            await asyncio.to_thread(handle.write, chunk)
    finally:
        handle.close()


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


async def file_chunks(path: Path, chunk_bytes: int) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_bytes):
            yield chunk
    finally:
        handle.close()


def local_root(settings: Settings) -> Path | None:
    """The local store's folder, or ``None`` when blobs live in S3 (backups need to know)."""
    if settings.s3_endpoint_url:
        return None
    return settings.blob_dir or settings.data_dir / "blobs"


def create_store(settings: Settings) -> BlobStore:
    """S3 when an endpoint is configured, else the local folder."""
    root = local_root(settings)
    if root is None:
        from twinspace_rt.materials.s3 import S3BlobStore

        return S3BlobStore(settings)
    return LocalBlobStore(root)
