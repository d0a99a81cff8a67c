"""Materials uploads (issue 15): a 100 MB tus upload through a real server against `cp` of the
same file on the same disk, the server's RSS growth during it, a 100 MB upload cut at 40 % and
resumed to a byte-identical file, 10 concurrent 20 MB uploads, and image processing time per
megapixel. Results go to stdout (and `--json`); docs/PERFORMANCE.md records a run.

    .venv/bin/python bench/materials_upload.py [--size-mb 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from bench.servers import HOST, TWINSPACE_CLI, free_port, usage

MB = 1000 * 1000
TUS = {"Tus-Resumable": "1.0.0"}


def _meta(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


async def _ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        assert process.poll() is None, "server exited during start-up"
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("server did not start")


async def _upload(
    http: httpx.AsyncClient,
    auth: dict[str, str],
    project: int,
    folder: int,
    path: Path,
    cut_at: int | None = None,
) -> str:
    size = path.stat().st_size
    created = await http.post(
        f"/api/projects/{project}/uploads",
        headers=auth
        | TUS
        | {
            "Upload-Length": str(size),
            "Upload-Metadata": _meta(
                collection_id=str(folder), filename=path.name, declaration="bench"
            ),
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    offset = 0
    while offset < size:
        stop = cut_at if cut_at and offset == 0 else size

        async def body(start: int = offset, end: int = stop) -> object:
            with path.open("rb") as handle:
                handle.seek(start)
                left = end - start
                while left > 0:
                    chunk = handle.read(min(1 << 20, left))
                    left -= len(chunk)
                    yield chunk
            if end < size:
                raise ConnectionResetError("cut")

        try:
            await http.patch(
                location,
                content=body(),
                headers=auth
                | TUS
                | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            )
        except (httpx.HTTPError, ConnectionResetError):
            pass
        for _ in range(600):
            head = await http.head(location, headers=auth | TUS)
            offset = int(head.headers["Upload-Offset"])
            if offset == size:
                break
            # Resume once the server has stored what arrived and let go of the upload.
            probe = await http.patch(
                location,
                content=b"",
                headers=auth
                | TUS
                | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            )
            if probe.status_code == 204:
                break
            await asyncio.sleep(0.1)
    return location


async def _material(http: httpx.AsyncClient, auth: dict[str, str], location: str) -> int:
    for _ in range(6000):
        status = (await http.get(f"{location}/status", headers=auth)).json()
        if status["status"] in ("done", "failed"):
            assert status["status"] == "done", status
            return int(status["material_id"])
        await asyncio.sleep(0.05)
    raise TimeoutError(location)


async def run(size_mb: int) -> dict[str, float]:
    results: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="tsrt-bench-materials-", dir=os.environ.get("TMPDIR")))
    source = work / "big.pdf"
    with source.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        for _ in range(size_mb):
            handle.write(os.urandom(MB))
    started = time.perf_counter()
    shutil.copyfile(source, work / "copy.pdf")
    os.sync()
    cp_seconds = time.perf_counter() - started
    results["cp_mb_per_s"] = size_mb / cp_seconds

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")} | {
        "TWINSPACE_DATA_DIR": str(work / "data"),
        "TWINSPACE_SECRET_KEY": "bench-secret-key-that-is-long-enough-for-hs256",
        "TWINSPACE_OPEN_REGISTRATION": "true",
        "TWINSPACE_REST_WRITE_RATE_PER_SECOND": "1000",
        "TWINSPACE_REST_WRITE_BURST": "1000",
        "TWINSPACE_MATERIALS_MEDIA_MAX_BYTES": str((size_mb + 1) * MB),
    }
    server = subprocess.Popen(
        [TWINSPACE_CLI, "serve", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=600) as http:
            await _ready(http, server)
            await http.post(
                "/api/auth/register", json={"username": "bench", "password": "bench password 1"}
            )
            token = (
                await http.post(
                    "/api/auth/login", json={"username": "bench", "password": "bench password 1"}
                )
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            project = (
                await http.post("/api/projects", json={"name": "bench"}, headers=auth)
            ).json()["id"]
            folder = (
                await http.post(
                    f"/api/projects/{project}/materials/collections",
                    json={"kind": "folder", "title": "bench"},
                    headers=auth,
                )
            ).json()["id"]
            album = (
                await http.post(
                    f"/api/projects/{project}/materials/collections",
                    json={"kind": "album", "title": "bench"},
                    headers=auth,
                )
            ).json()["id"]
            before = usage(server.pid).rss_kib
            peak = before
            done = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, usage(server.pid).rss_kib)
                    await asyncio.sleep(0.02)

            sampler = asyncio.create_task(sample())
            started = time.perf_counter()
            location = await _upload(http, auth, project, folder, source)
            upload_seconds = time.perf_counter() - started
            done.set()
            await sampler
            results["upload_mb_per_s"] = size_mb / upload_seconds
            results["upload_vs_cp"] = results["upload_mb_per_s"] / results["cp_mb_per_s"]
            results["rss_growth_mib"] = (peak - before) / 1024
            material = await _material(http, auth, location)
            served = await http.get(
                f"/api/projects/{project}/materials/{material}/file", headers=auth
            )
            assert (
                hashlib.sha256(served.content).digest()
                == hashlib.sha256(source.read_bytes()).digest()
            )

            location = await _upload(
                http, auth, project, folder, source, cut_at=int(source.stat().st_size * 0.4)
            )
            material = await _material(http, auth, location)
            served = await http.get(
                f"/api/projects/{project}/materials/{material}/file", headers=auth
            )
            assert (
                hashlib.sha256(served.content).digest()
                == hashlib.sha256(source.read_bytes()).digest()
            )
            results["cut_and_resumed_identical"] = 1.0

            twenty = [work / f"c{i}.pdf" for i in range(10)]
            for path in twenty:
                path.write_bytes(b"%PDF-1.7\n" + os.urandom(20 * MB))
            started = time.perf_counter()
            await asyncio.gather(*(_upload(http, auth, project, folder, p) for p in twenty))
            results["ten_20mb_uploads_s"] = time.perf_counter() - started

            photo = io.BytesIO()
            Image.effect_noise((4000, 3000), 40).convert("RGB").save(photo, "JPEG", quality=90)
            (work / "photo.jpg").write_bytes(photo.getvalue())
            started = time.perf_counter()
            await _material(
                http, auth, await _upload(http, auth, project, album, work / "photo.jpg")
            )
            results["image_seconds_per_megapixel"] = (time.perf_counter() - started) / 12
    finally:
        server.terminate()
        server.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = asyncio.run(run(args.size_mb))
    for name, value in results.items():
        print(f"{name:32} {value:10.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
