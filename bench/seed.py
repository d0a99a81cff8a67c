"""TwinSpace RT's side of the set-up: its database seeded directly, with the project's own code.

Used by ``hub_fanout.py`` (projects, pupils, tokens) and ``yjs_relay.py`` (documents too)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from servers import Seat
from sqlmodel import select

from twinspace_rt.auth.passwords import hash_password
from twinspace_rt.auth.policy import Role
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.documents import catalog
from twinspace_rt.documents.content import DocKind
from twinspace_rt.projects.membership import as_member
from twinspace_rt.services import found_project
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade
from twinspace_rt.storage.models import AccountKind, Membership, Project, User


def twinspace_env(data_dir: Path, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
    env.update(
        TWINSPACE_DATA_DIR=str(data_dir),
        TWINSPACE_SECRET_KEY=secret,
        TWINSPACE_LOG_LEVEL="warning",
    )
    return env


def bench_settings(data_dir: Path, secret: str, database_url: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, secret_key=SecretStr(secret), database_url=database_url)


def seed_twinspace(
    data_dir: Path, secret: str, rooms: int, users: int, database_url: str | None = None
) -> list[Seat]:
    """Writes ``rooms`` projects and ``users`` pupils straight into the database (SQLite in
    ``data_dir`` unless ``database_url`` names another), in seconds.

    Going through the REST API would hash one argon2 password per pupil (minutes); the bench
    users never log in by password, so they share one precomputed hash. Pupil ``i`` belongs to
    project ``i % rooms``.
    """
    settings = bench_settings(data_dir, secret, database_url)
    tokens = TokenService(settings)

    async def seed() -> list[Seat]:
        shared_hash = await hash_password("bench-users-never-log-in")
        db = Database(settings.effective_database_url)
        try:
            await upgrade(db)
            async with db.transaction() as tx:
                teacher = User(
                    username="bench.teacher",
                    display_name="Bench Teacher",
                    kind=AccountKind.teacher,
                    password_hash=shared_hash,
                )
                tx.add(teacher)
                await tx.flush()
                project_ids = []
                for room in range(rooms):
                    project, _ = await found_project(tx, teacher, f"Bench room {room}", "")
                    assert project.id is not None
                    project_ids.append(project.id)
                pupils = [
                    User(
                        username=f"bench.pupil.{i}",
                        display_name=f"Pupil {i}",
                        kind=AccountKind.pupil,
                        password_hash=shared_hash,
                        created_by=teacher.id,
                    )
                    for i in range(users)
                ]
                tx.add_all(pupils)
                await tx.flush()
                seats = []
                for i, pupil in enumerate(pupils):
                    assert pupil.id is not None
                    project_id = project_ids[i % rooms]
                    tx.add(Membership(project_id=project_id, user_id=pupil.id, role=Role.pupil))
                    token, _ = tokens.issue(pupil.id, pupil.token_generation)
                    seats.append(Seat(i, i % rooms, project_id, token))
            return seats
        finally:
            await db.close()

    return asyncio.run(seed())


def count_messages(data_dir: Path) -> int:
    """Messages TwinSpace RT stored: the proof that every delivered message was persisted."""
    with sqlite3.connect(data_dir / "twinspace.db") as db:
        return int(db.execute("SELECT count(*) FROM chat_messages").fetchone()[0])


def create_documents(settings: Settings, project_id: int, names: list[str]) -> None:
    """Text documents in a seeded project, made by the bench teacher with the catalogue's own
    code (``documents.catalog.create``), as the REST endpoint does."""

    async def create() -> None:
        db = Database(settings.effective_database_url)
        try:
            async with db.transaction() as tx:
                project = await tx.get(Project, project_id)
                teacher = (
                    await tx.exec(select(User).where(User.username == "bench.teacher"))
                ).one()
                assert project is not None and teacher.id is not None
                member = as_member(project, teacher.id, Role.teacher_admin)
                for name in names:
                    await catalog.create(tx, member, name, name, DocKind.text)
        finally:
            await db.close()

    asyncio.run(create())


@dataclass(frozen=True)
class TwinSpaceDocs:
    """TwinSpace RT's side of ``yjs_relay.py``: one project, its pupils' tokens, its documents.

    Editor ``e`` of any document is pupil ``e``; documents are created with the project's own
    catalogue code (``documents.catalog.create``), as the REST endpoint does.
    """

    data_dir: Path
    secret: str
    project_id: int
    tokens: list[str]
    unload_seconds: float

    @classmethod
    def seed(
        cls, data_dir: Path, secret: str, names: list[str], users: int, unload_seconds: float
    ) -> TwinSpaceDocs:
        seats = seed_twinspace(data_dir, secret, 1, users)
        project_id = seats[0].project_id
        create_documents(bench_settings(data_dir, secret), project_id, names)
        return cls(data_dir, secret, project_id, [s.token for s in seats], unload_seconds)

    def env(self, **settings: float) -> dict[str, str]:
        """The server's environment; ``settings`` override TwinSpace RT settings by name."""
        env = twinspace_env(self.data_dir, self.secret)
        env["TWINSPACE_DOCS_UNLOAD_GRACE_SECONDS"] = str(self.unload_seconds)
        env.update({f"TWINSPACE_{name.upper()}": str(value) for name, value in settings.items()})
        return env

    def access(self, doc: str, editor: int) -> tuple[int, str]:
        return self.project_id, self.tokens[editor % len(self.tokens)]

    def update_log(self, names: list[str]) -> tuple[int, int]:
        """Rows in these documents' update logs and compactions so far (snapshot versions)."""
        marks = ",".join("?" * len(names))
        with sqlite3.connect(self.data_dir / "twinspace.db") as db:
            ids = [
                r[0] for r in db.execute(f"SELECT id FROM documents WHERE name IN ({marks})", names)
            ]
            places = ",".join("?" * len(ids))
            (rows,) = db.execute(
                f"SELECT count(*) FROM doc_updates WHERE document_id IN ({places})", ids
            ).fetchone()
            (compactions,) = db.execute(
                f"SELECT coalesce(sum(snapshot_version), 0) FROM documents WHERE id IN ({places})",
                ids,
            ).fetchone()
        return int(rows), int(compactions)
