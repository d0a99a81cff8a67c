"""The S3-compatible blob store, through aioboto3 (async, streamed).

A write is a multipart upload of parts of the configured chunk size (S3's floor is 5 MiB except
the last), completed only when every part is in: the object appears whole or not at all, and at
most one part is held in memory. ``upload_fileobj`` is not used: on a stream it buffered tens of
MiB per client (GUIDE, "Uploads"). Reads are ranged GETs streamed in bounded chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from twinspace_rt.materials.blobs import READ_CHUNK, check_key
from twinspace_rt.settings import Settings

S3_MIN_PART = 5 * 1024 * 1024


class S3BlobStore:
    buffers_parts = True

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.part_bytes = max(S3_MIN_PART, settings.materials_chunk_bytes)
        self._session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=(
                settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
            ),
            region_name=settings.s3_region,
        )
        self._endpoint = settings.s3_endpoint_url
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def _s3(self) -> Any:
        """One client per node, opened on first use (it holds a connection pool)."""
        if self._client is None:
            self._stack = AsyncExitStack()
            self._client = await self._stack.enter_async_context(
                self._session.client(
                    "s3",
                    endpoint_url=self._endpoint,
                    config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
                )
            )
        return self._client

    async def start(self) -> None:
        """The bucket exists: made on the first start against an empty server."""
        s3 = await self._s3()
        try:
            await s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            await s3.create_bucket(Bucket=self.bucket)

    async def ping(self) -> None:
        """The bucket answers (credentials, endpoint and bucket all right)."""
        s3 = await self._s3()
        await s3.head_bucket(Bucket=self.bucket)

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        s3 = await self._s3()
        key = check_key(key)
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= self.part_bytes:
                    if upload_id is None:
                        started = await s3.create_multipart_upload(Bucket=self.bucket, Key=key)
                        upload_id = started["UploadId"]
                    body = bytes(buffer[: self.part_bytes])
                    del buffer[: self.part_bytes]
                    parts.append(await self._part(s3, key, upload_id, len(parts) + 1, body))
            if upload_id is None:
                await s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                return size
            if buffer:
                parts.append(await self._part(s3, key, upload_id, len(parts) + 1, bytes(buffer)))
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            if upload_id is not None:
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return size

    async def _part(self, s3: Any, key: str, upload_id: str, number: int, body: bytes) -> Any:
        answer = await s3.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        if end is not None and end <= start:
            return
        wanted = f"bytes={start}-{'' if end is None else end - 1}"
        answer = await s3.get_object(Bucket=self.bucket, Key=check_key(key), Range=wanted)
        body = answer["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def size(self, key: str) -> int | None:
        s3 = await self._s3()
        try:
            found = await s3.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(found["ContentLength"])

    async def keys(self, prefix: str) -> list[str]:
        s3 = await self._s3()
        found: list[str] = []
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def delete_prefix(self, prefix: str) -> None:
        s3 = await self._s3()
        keys = await self.keys(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self._client = None
