"""Project rooms: founding one, finding the caller's place in it, changing its status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, ProjectStatus, Role, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.models import Membership, Project, User


async def create_project(
    tx: AsyncSession, founder: User, name: str, description: str
) -> tuple[Project, Member]:
    if founder.is_pupil:
        raise AppError(ErrorCode.forbidden, "Only teachers can found a project.")
    assert founder.id is not None
    project = Project(name=name, description=description, founder_id=founder.id)
    tx.add(project)
    await tx.flush()
    assert project.id is not None
    tx.add(Membership(project_id=project.id, user_id=founder.id, role=Role.teacher_admin))
    member = as_member(project, founder.id, Role.teacher_admin)
    audit.record(tx, member, "project.create", name=name)
    await tx.flush()
    return project, member


def as_member(project: Project, user_id: int, role: Role | str) -> Member:
    assert project.id is not None
    return Member(
        user_id=user_id,
        project_id=project.id,
        role=Role(role),
        project_status=ProjectStatus(project.status),
        is_founder=project.founder_id == user_id,
    )


async def projects_of(tx: AsyncSession, user: User) -> list[tuple[Project, Member]]:
    """The rooms the user may enter; a closed room is listed only to its teacher admins."""
    found = await tx.exec(
        select(Project, Membership)
        .join(Membership, col(Membership.project_id) == col(Project.id))
        .where(Membership.user_id == user.id)
        .order_by(col(Project.id))
    )
    assert user.id is not None
    rooms = [(project, as_member(project, user.id, m.role)) for project, m in found]
    return [(p, m) for p, m in rooms if can(m, Action.project_view)]


async def enter(
    tx: AsyncSession, user: User, project_id: int, action: Action = Action.project_view
) -> tuple[Project, Member]:
    """The caller's membership in a project, refused unless it allows ``action``."""
    project = await tx.get(Project, project_id)
    if project is None:
        raise AppError(ErrorCode.not_found, f"No project {project_id}.")
    found = await tx.exec(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user.id)
    )
    membership = found.first()
    if membership is None:
        raise AppError(ErrorCode.forbidden, "You are not a member of this project.")
    assert user.id is not None
    member = as_member(project, user.id, membership.role)
    require(member, Action.project_view)
    require(member, action)
    return project, member


async def update_project(
    tx: AsyncSession,
    project: Project,
    actor: Member,
    name: str | None,
    description: str | None,
    status: ProjectStatus | None,
) -> Project:
    changes: dict[str, str] = {}
    if project.status == ProjectStatus.archived and (
        (name is not None and name != project.name)
        or (description is not None and description != project.description)
    ):
        raise AppError(ErrorCode.read_only, "Reopen the project before renaming or describing it.")
    if name is not None and name != project.name:
        changes["name"] = project.name = name
    if description is not None and description != project.description:
        changes["description"] = project.description = description
    if status is not None and status != project.status:
        changes["status"] = project.status = status
    if changes:
        tx.add(project)
        audit.record(tx, actor, "project.update", None, **changes)
        await tx.flush()
    return project


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a connected user stands now: a `Member`, or why their sockets must close."""

    member: Member | None
    token_generation: int = 0
    refusal: ErrorCode | None = None

    def verdict(self, generation: int) -> ErrorCode | None:
        """Why a socket opened with a token of ``generation`` must close, or None.

        Asked per socket: one user may hold a socket from before a password reset and one
        from after, and only the older must go.
        """
        if self.refusal is None and generation != self.token_generation:
            return ErrorCode.token_invalid
        return self.refusal


async def standings(tx: AsyncSession, project_id: int, user_ids: set[int]) -> dict[int, Standing]:
    """For the users of live sockets, after a change to the project or its members."""
    if not user_ids:
        return {}
    project = await tx.get(Project, project_id)
    found = await tx.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.project_id == project_id, col(Membership.user_id).in_(user_ids))
    )
    rows = {membership.user_id: (membership, user) for membership, user in found}
    result: dict[int, Standing] = {}
    for user_id in user_ids:
        row = rows.get(user_id)
        if project is None or row is None:
            result[user_id] = Standing(None, refusal=ErrorCode.forbidden)
            continue
        membership, user = row
        member = as_member(project, user_id, membership.role)
        closed = not can(member, Action.project_view)
        refusal = ErrorCode.project_closed if closed else None
        result[user_id] = Standing(member, user.token_generation, refusal)
    return result
