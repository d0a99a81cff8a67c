"""Who may ask for an export or an erasure, and the job each request becomes.

Only the member themself (teacher accounts: pupils have no e-mail and no say over others) or a
teacher administrator of a project the member is in; a teacher administrator's request covers
that project only. An erasure that would leave a project without a teacher administrator is
refused. Asking again while a job runs returns that job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, Role, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.privacy.context import PSEUDONYM
from twinspace_rt.projects import audit
from twinspace_rt.projects.membership import as_member
from twinspace_rt.storage.models import Membership, Project, User
from twinspace_rt.storage.privacy_models import PrivacyJob

ERASE = "erase"
EXPORT = "export"
LANGUAGES = ("en", "ar", "ca", "da", "it", "tr")


@dataclass(frozen=True)
class Requested:
    job: PrivacyJob
    # Projects whose live sockets must re-check their members (the erased member's).
    projects: list[int]


async def _memberships(tx: AsyncSession, user_id: int) -> list[Membership]:
    found = await tx.exec(
        select(Membership).where(Membership.user_id == user_id).order_by(col(Membership.id))
    )
    return list(found)


async def _running(tx: AsyncSession, kind: str, subject: int) -> PrivacyJob | None:
    found = await tx.exec(
        select(PrivacyJob).where(
            PrivacyJob.kind == kind,
            PrivacyJob.subject_user_id == subject,
            col(PrivacyJob.state).in_(("pending", "running")),
        )
    )
    return found.first()


async def _subject_in(tx: AsyncSession, project_id: int, user_id: int) -> tuple[User, Membership]:
    found = await tx.exec(
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.project_id == project_id, Membership.user_id == user_id)
    )
    row = found.first()
    if row is None:
        raise AppError(ErrorCode.not_found, f"User {user_id} is not a member of this project.")
    return row


async def _refuse_last_admin(tx: AsyncSession, memberships: list[Membership]) -> None:
    for membership in memberships:
        if membership.role != Role.teacher_admin:
            continue
        admins = await tx.exec(
            select(func.count()).where(
                Membership.project_id == membership.project_id,
                Membership.role == Role.teacher_admin,
            )
        )
        if admins.one() <= 1:
            raise AppError(
                ErrorCode.last_admin,
                f"Project {membership.project_id} would have no teacher administrator left: "
                "name another one first.",
            )


async def erase_member(
    tx: AsyncSession, actor: Member, project: Project, user_id: int
) -> Requested:
    """A teacher administrator erases a member from their project; a member of no other
    project (every pupil) is erased whole, account included."""
    require(actor, Action.privacy_manage)
    subject, membership = await _subject_in(tx, actor.project_id, user_id)
    if subject.id == project.founder_id and actor.user_id != project.founder_id:
        raise AppError(ErrorCode.founder_protected)
    existing = await _running(tx, ERASE, user_id)
    if existing is not None:
        return Requested(existing, [])
    await _refuse_last_admin(tx, [membership])
    others = [m for m in await _memberships(tx, user_id) if m.project_id != actor.project_id]
    whole = not others
    return await _erase(tx, actor.user_id, subject, [membership], whole, [actor])


async def witnesses(tx: AsyncSession, user_id: int) -> list[Member]:
    """The member in each of their projects: where their own requests are audited."""
    members = []
    for membership in await _memberships(tx, user_id):
        project = await tx.get(Project, membership.project_id)
        assert project is not None
        members.append(as_member(project, user_id, membership.role))
    return members


async def erase_account(tx: AsyncSession, user: User) -> Requested:
    """A teacher erases their own account, from every project."""
    if user.is_pupil:
        raise AppError(ErrorCode.forbidden, "A teacher administrator erases pupil accounts.")
    assert user.id is not None
    existing = await _running(tx, ERASE, user.id)
    if existing is not None:
        return Requested(existing, [])
    memberships = await _memberships(tx, user.id)
    await _refuse_last_admin(tx, memberships)
    members = await witnesses(tx, user.id)
    return await _erase(tx, user.id, user, memberships, True, members)


async def _erase(
    tx: AsyncSession,
    requested_by: int,
    subject: User,
    memberships: list[Membership],
    whole: bool,
    witnesses: list[Member],
) -> Requested:
    """The membership goes now, so live sockets close at once; the rest is the job's."""
    assert subject.id is not None
    placeholder = User(
        username=f"former-{secrets.token_hex(8)}", display_name=PSEUDONYM, kind=subject.kind
    )
    tx.add(placeholder)
    await tx.flush()
    projects = [m.project_id for m in memberships]
    job = PrivacyJob(
        kind=ERASE,
        project_id=None if whole else projects[0],
        subject_user_id=subject.id,
        placeholder_id=placeholder.id,
        requested_by=requested_by,
        projects=projects,
    )
    tx.add(job)
    for membership in memberships:
        await tx.delete(membership)
    if whole:
        subject.token_generation += 1
        tx.add(subject)
    await tx.flush()
    for member in witnesses:
        audit.record(
            tx,
            member,
            "privacy.erase",
            placeholder.id,
            job=job.id,
            scope="account" if whole else "project",
        )
    await tx.flush()
    return Requested(job, projects)


async def export_member(tx: AsyncSession, actor: Member, user_id: int, language: str) -> PrivacyJob:
    """A teacher administrator answers an access request about a member of their project."""
    require(actor, Action.privacy_manage)
    await _subject_in(tx, actor.project_id, user_id)
    return await _export(tx, actor.user_id, user_id, actor.project_id, language, [actor])


async def export_account(tx: AsyncSession, user: User, language: str) -> PrivacyJob:
    """A teacher's own export, across every project."""
    if user.is_pupil:
        raise AppError(ErrorCode.forbidden, "A teacher administrator exports pupil data.")
    assert user.id is not None
    members = await witnesses(tx, user.id)
    return await _export(tx, user.id, user.id, None, language, members)


async def _export(
    tx: AsyncSession,
    requested_by: int,
    subject: int,
    project_id: int | None,
    language: str,
    witnesses: list[Member],
) -> PrivacyJob:
    if language not in LANGUAGES:
        raise AppError(ErrorCode.validation_failed, f"`language` must be one of {LANGUAGES}.")
    found = await tx.exec(
        select(PrivacyJob).where(
            PrivacyJob.kind == EXPORT,
            PrivacyJob.subject_user_id == subject,
            PrivacyJob.requested_by == requested_by,
            PrivacyJob.project_id == project_id,
            col(PrivacyJob.state).in_(("pending", "running")),
        )
    )
    existing = found.first()
    if existing is not None:
        return existing
    job = PrivacyJob(
        kind=EXPORT,
        project_id=project_id,
        subject_user_id=subject,
        requested_by=requested_by,
        language=language,
    )
    tx.add(job)
    await tx.flush()
    for member in witnesses:
        audit.record(tx, member, "privacy.export", subject, job=job.id)
    await tx.flush()
    return job
