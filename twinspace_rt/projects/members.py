"""Who is in a room and in which role: invitations, role changes, removals, pupil accounts."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.passwords import hash_password, one_time_password
from twinspace_rt.auth.policy import Member, Role, roles_for_account
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.projects.accounts import free_username, user_by_username, username_stem
from twinspace_rt.storage.models import AccountKind, Membership, Project, User


async def list_members(tx: AsyncSession, project_id: int) -> list[tuple[Membership, User]]:
    found = await tx.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.project_id == project_id)
        .order_by(col(Membership.id))
    )
    return list(found.all())


async def _membership(tx: AsyncSession, project_id: int, user_id: int) -> Membership:
    found = await tx.exec(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    membership = found.first()
    if membership is None:
        raise AppError(ErrorCode.not_found, f"User {user_id} is not a member of this project.")
    return membership


def _check_role_fits(is_pupil: bool, role: Role) -> None:
    if role not in roles_for_account(is_pupil):
        kind = "pupil" if is_pupil else "teacher"
        raise AppError(
            ErrorCode.role_not_allowed, f"A {kind} account cannot hold the role {role.value}."
        )


async def invite(
    tx: AsyncSession, actor: Member, username: str, role: Role
) -> tuple[Membership, User]:
    user = await user_by_username(tx, username)
    if user is None:
        raise AppError(ErrorCode.not_found, f"No user {username!r}.")
    if user.is_pupil:
        raise AppError(
            ErrorCode.role_not_allowed, "Pupil accounts belong to the project that created them."
        )
    _check_role_fits(False, role)
    assert user.id is not None
    existing = await tx.exec(
        select(Membership.id).where(
            Membership.project_id == actor.project_id, Membership.user_id == user.id
        )
    )
    if existing.first() is not None:
        raise AppError(ErrorCode.already_member)
    membership = Membership(project_id=actor.project_id, user_id=user.id, role=role)
    tx.add(membership)
    audit.record(tx, actor, "member.invite", user.id, role=role.value)
    await tx.flush()
    return membership, user


async def _admin_count(tx: AsyncSession, project_id: int) -> int:
    found = await tx.exec(
        select(func.count()).where(
            Membership.project_id == project_id, Membership.role == Role.teacher_admin
        )
    )
    return found.one()


async def _guard_admin_loss(
    tx: AsyncSession, actor: Member, project: Project, target: Membership
) -> None:
    """The founder is only demoted by themself, and a room never loses its last admin."""
    if target.user_id == project.founder_id and actor.user_id != project.founder_id:
        raise AppError(ErrorCode.founder_protected)
    if target.role == Role.teacher_admin and await _admin_count(tx, project.id or 0) <= 1:
        raise AppError(ErrorCode.last_admin)


async def change_role(
    tx: AsyncSession, actor: Member, project: Project, user_id: int, role: Role
) -> tuple[Membership, User]:
    membership = await _membership(tx, actor.project_id, user_id)
    user = await tx.get(User, user_id)
    assert user is not None
    _check_role_fits(user.is_pupil, role)
    if membership.role == role:
        return membership, user
    if role != Role.teacher_admin:
        await _guard_admin_loss(tx, actor, project, membership)
    audit.record(tx, actor, "member.role", user_id, old=membership.role, new=role.value)
    membership.role = role
    tx.add(membership)
    await tx.flush()
    return membership, user


async def remove(tx: AsyncSession, actor: Member, project: Project, user_id: int) -> None:
    membership = await _membership(tx, actor.project_id, user_id)
    await _guard_admin_loss(tx, actor, project, membership)
    audit.record(tx, actor, "member.remove", user_id, role=membership.role)
    await tx.delete(membership)
    await tx.flush()


async def create_pupils(
    tx: AsyncSession, actor: Member, display_names: list[str], role: Role
) -> list[tuple[User, str]]:
    """All or none: the teacher gets every login of the batch or an error and no accounts."""
    _check_role_fits(True, role)
    created: list[tuple[User, str]] = []
    for display_name in display_names:
        password = one_time_password()
        user = User(
            username=await free_username(tx, username_stem(display_name)),
            display_name=display_name,
            kind=AccountKind.pupil,
            password_hash=await hash_password(password),
            must_change_password=True,
            created_by=actor.user_id,
        )
        tx.add(user)
        await tx.flush()
        assert user.id is not None
        tx.add(Membership(project_id=actor.project_id, user_id=user.id, role=role))
        audit.record(tx, actor, "pupil.create", user.id, display_name=display_name)
        created.append((user, password))
    await tx.flush()
    return created


async def reset_pupil_password(tx: AsyncSession, actor: Member, user_id: int) -> tuple[User, str]:
    """A new one-time password; every token the pupil held stops working."""
    await _membership(tx, actor.project_id, user_id)
    user = await tx.get(User, user_id)
    assert user is not None
    if not user.is_pupil:
        raise AppError(ErrorCode.forbidden, "Only pupil passwords can be reset here.")
    password = one_time_password()
    user.password_hash = await hash_password(password)
    user.must_change_password = True
    user.token_generation += 1
    tx.add(user)
    audit.record(tx, actor, "pupil.reset_password", user_id)
    await tx.flush()
    return user, password
