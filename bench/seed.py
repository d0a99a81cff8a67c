"""TwinSpace RT's side of the set-up: its database seeded directly, with the project's own code."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from pydantic import SecretStr
from servers import Seat

from twinspace_rt.auth.passwords import hash_password
from twinspace_rt.auth.policy import Role
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.projects.rooms import create_project
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade
from twinspace_rt.storage.models import AccountKind, Membership, User


def twinspace_env(data_dir: Path, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
    env.update(
        TWINSPACE_DATA_DIR=str(data_dir),
        TWINSPACE_SECRET_KEY=secret,
        TWINSPACE_LOG_LEVEL="warning",
    )
    return env


def seed_twinspace(data_dir: Path, secret: str, rooms: int, users: int) -> list[Seat]:
    """Writes ``rooms`` projects and ``users`` pupils straight into SQLite, in seconds.

    Going through the REST API would hash one argon2 password per pupil (minutes); the bench
    users never log in by password, so they share one precomputed hash. Pupil ``i`` belongs to
    project ``i % rooms``.
    """
    settings = Settings(data_dir=data_dir, secret_key=SecretStr(secret))
    tokens = TokenService(settings)

    async def seed() -> list[Seat]:
        shared_hash = await hash_password("bench-users-never-log-in")
        db = Database(settings.effective_database_url)
        try:
            await upgrade(db)
            async with db.transaction() as session:
                teacher = User(
                    username="bench.teacher",
                    display_name="Bench Teacher",
                    kind=AccountKind.teacher,
                    password_hash=shared_hash,
                )
                session.add(teacher)
                await session.flush()
                project_ids = []
                for room in range(rooms):
                    project, _ = await create_project(session, teacher, f"Bench room {room}", "")
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
                session.add_all(pupils)
                await session.flush()
                seats = []
                for i, pupil in enumerate(pupils):
                    assert pupil.id is not None
                    project_id = project_ids[i % rooms]
                    session.add(
                        Membership(project_id=project_id, user_id=pupil.id, role=Role.pupil)
                    )
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
