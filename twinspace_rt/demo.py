"""The demo room `serve --demo` opens: two schools, two countries, a few pupils."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member, Role
from twinspace_rt.projects import accounts, members, membership
from twinspace_rt.services import found_project
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.models import Membership, Project, User

PROJECT_NAME = "Water Stories: Lisbon & Gdańsk"
TEACHER_PASSWORD = "demo-teacher-2026"
TEACHERS = [
    ("ana", "Ana Sousa", "PT"),
    ("tomasz", "Tomasz Nowak", "PL"),
]
PUPILS = ["Inês Costa", "Rui Almeida", "Zofia Wiśniewska", "Kacper Zieliński"]


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    display_name: str
    role: str


async def seed_demo(db: Database) -> tuple[int, list[Login]]:
    """Idempotent: the room is made once; each start gives its pupils fresh one-time passwords."""
    async with db.transaction() as tx:
        founder = await accounts.user_by_username(tx, TEACHERS[0][0])
        if founder is None:
            founder, project, admin = await _create(tx)
        else:
            found = await tx.exec(
                select(Project).where(
                    Project.founder_id == founder.id, Project.name == PROJECT_NAME
                )
            )
            project = found.one()
            assert founder.id is not None
            admin = membership.as_member(project, founder.id, Role.teacher_admin)
        logins = [
            Login(username, TEACHER_PASSWORD, name, role)
            for (username, name, _), role in zip(
                TEACHERS, ["teacher_admin", "teacher"], strict=True
            )
        ]
        pupils = await tx.exec(
            select(User, Membership)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(Membership.project_id == project.id, User.kind == "pupil")
            .order_by(col(User.id))
        )
        for pupil, seat in pupils.all():
            assert pupil.id is not None
            _, password = await members.reset_pupil_password(tx, admin, pupil.id)
            logins.append(Login(pupil.username, password, pupil.display_name, seat.role))
    assert project.id is not None
    return project.id, logins


async def _create(tx: AsyncSession) -> tuple[User, Project, Member]:
    teachers = [
        await accounts.create_teacher(tx, username, TEACHER_PASSWORD, name, country)
        for username, name, country in TEACHERS
    ]
    project, admin = await found_project(
        tx,
        teachers[0],
        PROJECT_NAME,
        "A joint story about the rivers and seas of our two cities, written by both classes.",
    )
    await members.invite(tx, admin, TEACHERS[1][0], Role.teacher)
    await members.create_pupils(tx, admin, PUPILS[:1], Role.pupil_admin)
    await members.create_pupils(tx, admin, PUPILS[1:], Role.pupil)
    return teachers[0], project, admin
