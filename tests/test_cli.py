"""The real `twinspace-rt` command: migrations on empty databases, and `serve` over real HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

from tests.conftest import _pg_admin, _pg_url
from tests.support.room import first_sign_in
from tests.support.services import free_port
from tests.support.waiting import WAIT
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import current_revision, head_revision

CLI = shutil.which("twinspace-rt") or str(Path(sys.executable).parent / "twinspace-rt")
TABLES = {"users", "projects", "memberships", "audit_log", "alembic_version"}


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
    env.update(TWINSPACE_DATA_DIR=str(tmp_path / "data"), TWINSPACE_DATABASE_URL=database_url)
    return env


def cli(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=_env(tmp_path, database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"tsrt_empty_{uuid.uuid4().hex[:10]}"
    admin = await _pg_admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield _pg_url(name)
    admin = await _pg_admin()
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.mark.one_pass  # it runs on both kinds itself, whatever the pass
async def test_db_upgrade_on_an_empty_database(empty_database: str, tmp_path: Path) -> None:
    result = cli(tmp_path, empty_database, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    db = Database(empty_database)
    try:
        async with db.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert TABLES <= tables
        assert await current_revision(db) == head_revision()
    finally:
        await db.close()
    again = cli(tmp_path, empty_database, "db", "upgrade")
    assert again.returncode == 0, "upgrading twice is harmless"


async def test_user_project_and_token_commands(database_url: str, tmp_path: Path) -> None:
    assert cli(tmp_path, database_url, "db", "upgrade").returncode == 0
    added = cli(
        tmp_path,
        database_url,
        "user",
        "add",
        "Lena",
        "--password",
        "pw-long-enough",
        "--name",
        "Lena Berg",
        "--country",
        "dk",
    )
    assert added.returncode == 0, added.stderr
    duplicate = cli(tmp_path, database_url, "user", "add", "lena", "--password", "pw-long-enough")
    assert duplicate.returncode != 0 and "username_taken" in duplicate.stderr
    project = cli(tmp_path, database_url, "project", "add", "Fjord Tales", "--owner", "lena")
    assert project.returncode == 0 and "Fjord Tales" in project.stdout
    token = cli(tmp_path, database_url, "token", "lena")
    assert token.returncode == 0 and token.stdout.count(".") == 2
    roles = cli(tmp_path, database_url, "docs", "roles")
    assert roles.stdout.startswith("# Roles and permissions")


async def _start_serve(
    tmp_path: Path, database_url: str, port: int
) -> tuple[asyncio.subprocess.Process, list[list[str]]]:
    process = await asyncio.create_subprocess_exec(
        CLI,
        "serve",
        "--demo",
        "--port",
        str(port),
        env=_env(tmp_path, database_url),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        rows: list[list[str]] = []
        # A whole process start: imports, every migration and the demo's password hashes, about
        # 6 s of CPU here; on a machine loaded tenfold that alone took longer than one WAIT.
        async with asyncio.timeout(WAIT * 2):
            while not (line := (await process.stdout.readline()).decode()).startswith("username"):
                assert line, "serve exited before printing the demo logins"
            while line := (await process.stdout.readline()).decode().strip():
                rows.append(line.split(maxsplit=3))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                while True:
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
    except BaseException:
        # A start that timed out must not leave a server behind on the shared machine.
        process.kill()
        await process.wait()
        raise
    return process, rows


async def test_serve_demo_end_to_end_over_http(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    process, logins = await _start_serve(tmp_path, database_url, port)
    try:
        by_role = {role: (username, password) for username, password, role, _ in logins}
        assert {"teacher_admin", "teacher", "pupil_admin", "pupil"} <= set(by_role)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as http:

            async def login(username: str, password: str) -> dict[str, str]:
                response = await http.post(
                    "/api/auth/login", json={"username": username, "password": password}
                )
                assert response.status_code == 200, response.text
                return {"Authorization": f"Bearer {response.json()['token']}"}

            ana = await login(*by_role["teacher_admin"])
            demo_room = (await http.get("/api/projects", headers=ana)).json()["projects"][0]
            countries = {
                m["country"]
                for m in (
                    await http.get(f"/api/projects/{demo_room['id']}/members", headers=ana)
                ).json()["members"]
            }
            assert {"PT", "PL"} <= countries
            # The walk-through: found a project, invite a partner abroad, create pupils.
            project = (
                await http.post("/api/projects", json={"name": "Bridges"}, headers=ana)
            ).json()
            base = f"/api/projects/{project['id']}"
            tomasz = by_role["teacher"][0]
            assert (
                await http.post(
                    f"{base}/members", json={"username": tomasz, "role": "teacher"}, headers=ana
                )
            ).status_code == 201
            pupils = (
                await http.post(
                    f"{base}/pupils", json={"display_names": ["Marta", "Filip"]}, headers=ana
                )
            ).json()["pupils"]
            marta = await first_sign_in(http, pupils[0]["username"], pupils[0]["password"])
            assert [
                p["id"] for p in (await http.get("/api/projects", headers=marta)).json()["projects"]
            ] == [project["id"]]
            demo_pupil = await first_sign_in(http, *by_role["pupil"])
            assert [
                p["id"]
                for p in (await http.get("/api/projects", headers=demo_pupil)).json()["projects"]
            ] == [demo_room["id"]]
            assert (await http.get("/readyz")).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert await process.wait() in (0, -signal.SIGTERM)
    # A second start keeps the room and hands its pupils fresh passwords.
    process, again = await _start_serve(tmp_path, database_url, port)
    try:
        assert [row[0] for row in again] == [row[0] for row in logins]
        assert again[-1][1] != logins[-1][1]
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            await process.wait()


def test_production_requires_a_secret(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/x.db")
    env["TWINSPACE_ENV"] = "production"
    result = subprocess.run(
        [CLI, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=WAIT
    )
    assert result.returncode != 0 and "TWINSPACE_SECRET_KEY is required" in result.stderr


def test_development_secret_is_generated_once(tmp_path: Path) -> None:
    from twinspace_rt.settings import Settings

    first = Settings(_env_file=None, data_dir=tmp_path).signing_key
    second = Settings(_env_file=None, data_dir=tmp_path).signing_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
