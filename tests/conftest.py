"""Fixtures: a fresh database of the selected kind per test, the real app, an HTTP client."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from tests.support.live import Live, serve
from tests.support.services import DB_KIND, POSTGRES_DSN, service_missing
from tests.support.waiting import WAIT
from twinspace_rt.app import create_app
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade

PG_TEMPLATE = f"tsrt_template_{uuid.uuid4().hex[:8]}"
# The web client's tests: what they ask of the server, the API and hub tests ask on both kinds.
ONE_PASS_FOLDERS = ("browser",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs the suite once per database kind. A test whose outcome cannot depend on
    the selected kind (marked `one_pass`, or in `ONE_PASS_FOLDERS`) runs in the SQLite pass
    only: running it again on PostgreSQL would test nothing new and cost the suite minutes."""
    if DB_KIND == "sqlite":
        return
    tests_root = Path(__file__).parent
    kept, once = [], []
    for item in items:
        folder = item.path.relative_to(tests_root).parts[0]
        one_pass = item.get_closest_marker("one_pass") or folder in ONE_PASS_FOLDERS
        (once if one_pass else kept).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept


def _pg_url(database: str) -> str:
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


async def _pg_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_DSN, timeout=WAIT)
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", str(exc))
        raise


@pytest.fixture(scope="session")
async def pg_template() -> AsyncIterator[str | None]:
    """One migrated database per run; each test copies it (fast) instead of migrating."""
    if DB_KIND != "postgres":
        yield None
        return
    admin = await _pg_admin()
    await admin.execute(f'CREATE DATABASE "{PG_TEMPLATE}"')
    await admin.close()
    db = Database(_pg_url(PG_TEMPLATE))
    await upgrade(db)
    await db.close()
    yield PG_TEMPLATE
    admin = await _pg_admin()
    await admin.execute(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
    await admin.close()


async def _new_pg_database(template: str | None) -> str:
    """A fresh database: a copy of the migrated template, or migrated here when there is none."""
    name = f"tsrt_{uuid.uuid4().hex[:12]}"
    admin = await _pg_admin()
    suffix = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    await admin.close()
    if template is None:
        db = Database(_pg_url(name))
        await upgrade(db)
        await db.close()
    return name


async def _drop_pg_database(name: str) -> None:
    admin = await _pg_admin()
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run, copied by each test (migrating costs ~0.3 s of CPU)."""
    path = tmp_path_factory.mktemp("template") / "twinspace.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.close()
    return path


@pytest.fixture
async def database_url(
    pg_template: str | None, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[str]:
    if DB_KIND not in ("sqlite", "postgres"):
        raise pytest.UsageError("TWINSPACE_TEST_DATABASE must be sqlite or postgres")
    if pg_template is None:
        copy = tmp_path / "twinspace.db"
        shutil.copyfile(sqlite_template, copy)
        yield f"sqlite+aiosqlite:///{copy}"
        return
    name = await _new_pg_database(pg_template)
    yield _pg_url(name)
    await _drop_pg_database(name)


@pytest.fixture
async def pg_database_url(pg_template: str | None) -> AsyncIterator[str]:
    """PostgreSQL whatever the selected kind: nodes of a cluster share it."""
    name = await _new_pg_database(pg_template)
    yield _pg_url(name)
    await _drop_pg_database(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        # Tests drive sockets faster than people; the limiter has tests of its own.
        chat_rate_per_second=1000,
        chat_rate_burst=1000,
        rest_write_rate_per_second=1000,
        rest_write_burst=1000,
        ws_read_bytes_per_second=1 << 30,
        ws_read_bytes_burst=1 << 30,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def services(app: Starlette) -> Services:
    return app.state.services  # type: ignore[no-any-return]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with serve(settings) as server:
        yield server
