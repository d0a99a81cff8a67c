"""Retention: what is kept no longer than a project's settings say, removed by a run that
happens once across the cluster.

Per project: chat messages, materials (with their files), journal posts (with their
comments) and audit entries older than the project's settings, and a closed project whole
after its months; across projects: login history older than ``retention_login_days`` and
exports built more than ``privacy_export_keep_hours`` ago (`retention_content.py` says how
each goes without a trace). Unfinished uploads are not here: the materials worker deletes each
``materials_upload_expiry_seconds`` (24 hours) after it began, with its parts.

Every node tries the run on its poll; the ``retention`` lease row (``privacy_leases``) is taken
by one compare-and-set that also requires the last run to be ``retention_interval_seconds``
old, so exactly one node runs it per interval, on SQLite and PostgreSQL alike, with no extra
service. Rows go in batches of ``privacy_batch_size``, each its own short transaction, so live
writes wait at most one batch. ``now`` is passed in: the tests move time, nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from twinspace_rt.auth.policy import ProjectStatus
from twinspace_rt.materials.blobs import BlobStore
from twinspace_rt.privacy import retention_content as content
from twinspace_rt.privacy.context import Progress, key
from twinspace_rt.privacy.materials import remove_materials
from twinspace_rt.privacy.retention_content import Remover
from twinspace_rt.privacy.tables import declared, delete_rows, in_project, table
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.privacy_models import PrivacySettings

LEASE = "retention"


@dataclass(frozen=True)
class Rule:
    """Rows of ``table`` whose ``age`` is older than the project's setting go.

    ``due`` widens what is due (a journal post's comments go with it); ``remove`` also takes
    what lies outside the table (blobs, stored pushes); both default to the table's own rows.
    """

    name: str
    table: str
    age: str
    setting: str  # the PrivacySettings column; None there means the server default
    default: str  # the Settings field
    days: int  # days per unit of the setting
    due: Callable[[int, datetime], Any] | None = None
    remove: Remover | None = None
    # A column naming each row, for the dry run's list (None: the dry run only counts).
    label: str | None = None


RULES = (
    Rule("chat_messages", "chat_messages", "created_at", "chat_days", "retention_chat_days", 1),
    Rule(
        "materials",
        "materials",
        "created_at",
        "materials_days",
        "retention_materials_days",
        1,
        remove=remove_materials,
        label="filename",
    ),
    Rule(
        "journal_posts",
        "journal_posts",
        "created_at",
        "journal_days",
        "retention_journal_days",
        1,
        due=content.journal_due,
        remove=content.remove_journal,
        label="body",
    ),
    Rule("audit_log", "audit_log", "created_at", "audit_years", "retention_audit_years", 365),
)


# How many rows of each listed rule the dry run names (the count covers every row), and how much
# of each label it shows.
PREVIEW_LIST = 50
LABEL_CHARS = 80


@dataclass(frozen=True)
class Due:
    """One row the next run removes, as the dry run names it."""

    id: int
    label: str
    created_at: datetime


@dataclass
class Report:
    ran: bool
    removed: dict[str, int] = field(default_factory=dict)
    projects_deleted: list[int] = field(default_factory=list)
    # The dry run only: the first rows of each listed rule, oldest first.
    listed: dict[str, list[Due]] = field(default_factory=dict)


def _limit(settings: Settings, chosen: PrivacySettings | None, rule: Rule) -> int:
    value = getattr(chosen, rule.setting) if chosen is not None else None
    return int(value if value is not None else getattr(settings, rule.default))


def _closed_months(settings: Settings, chosen: PrivacySettings | None) -> int:
    value = chosen.closed_months if chosen is not None else None
    return value if value is not None else settings.retention_closed_project_months


async def _projects(db: Database) -> list[tuple[int, str, PrivacySettings | None]]:
    projects = table("projects")
    async with db.reader() as tx:
        rows = (
            await (await tx.connection()).execute(
                select(projects.c.id, projects.c.status).order_by(projects.c.id)
            )
        ).all()
        return [(p, status, await tx.get(PrivacySettings, p)) for p, status in rows]


def _due(rule: Rule, project_id: int, cutoff: datetime) -> Any:
    if rule.due is not None:
        return rule.due(project_id, cutoff)
    target = table(rule.table)
    return and_(target.c[rule.age] < cutoff, in_project(rule.table, project_id))


async def _remove(
    db: Database, settings: Settings, store: BlobStore, rule: Rule, where: Any, progress: Progress
) -> int:
    if rule.remove is not None:
        return await rule.remove(db, store, where, settings.privacy_batch_size, progress)
    return await _delete_where(db, settings, rule.table, where, progress)


async def preview(db: Database, settings: Settings, project_id: int, now: datetime) -> Report:
    """The dry run a teacher administrator sees: what the next run would remove here."""
    report = Report(ran=False)
    async with db.reader() as tx:
        chosen = await tx.get(PrivacySettings, project_id)
        connection = await tx.connection()
        for rule in RULES:
            cutoff = now - timedelta(days=_limit(settings, chosen, rule) * rule.days)
            target = table(rule.table)
            where = _due(rule, project_id, cutoff)
            count = (
                await connection.execute(select(func.count()).select_from(target).where(where))
            ).scalar_one()
            report.removed[rule.name] = int(count)
            if rule.label is not None:
                named = await connection.execute(
                    select(key(target), target.c[rule.label], target.c[rule.age])
                    .where(where)
                    .order_by(target.c[rule.age], key(target))
                    .limit(PREVIEW_LIST)
                )
                report.listed[rule.name] = [
                    Due(row_id, label[:LABEL_CHARS], created) for row_id, label, created in named
                ]
        since = chosen.closed_since if chosen is not None else None
        months = _closed_months(settings, chosen)
        if since is not None and since < now - timedelta(days=30 * months):
            report.projects_deleted.append(project_id)
    return report


async def _take(db: Database, settings: Settings, holder: str, now: datetime) -> bool:
    leases = table("privacy_leases")
    interval = timedelta(seconds=settings.retention_interval_seconds)
    lease = settings.privacy_job_lease_seconds
    async with db.transaction() as tx:
        taken = await (await tx.connection()).execute(
            update(leases)
            .where(
                leases.c.name == LEASE,
                or_(leases.c.until.is_(None), leases.c.until < now),
                or_(leases.c.last_run_at.is_(None), leases.c.last_run_at <= now - interval),
            )
            .values(holder=holder, until=now + timedelta(seconds=lease))
        )
        return taken.rowcount == 1


async def run(
    db: Database,
    settings: Settings,
    store: BlobStore,
    holder: str,
    now: datetime,
    progress: Progress,
) -> Report:
    """Runs when this node wins the lease for this interval; otherwise reports ``ran: False``."""
    if not await _take(db, settings, holder, now):
        return Report(ran=False)
    leases = table("privacy_leases")
    held = 0

    async def renew() -> None:
        """Keeps the lease while batches go on (time here is the run's clock, not the wall)."""
        nonlocal held
        held += 1
        until = now + timedelta(seconds=settings.privacy_job_lease_seconds * (held + 1))
        async with db.transaction() as tx:
            await (await tx.connection()).execute(
                update(leases)
                .where(leases.c.name == LEASE, leases.c.holder == holder)
                .values(until=until)
            )
        await progress()

    report = Report(ran=True)
    for project_id, status, chosen in await _projects(db):
        if await _note_closed(db, settings, project_id, status, chosen, now):
            await content.delete_project_blobs(db, store, project_id)
            await _delete_project(db, settings, project_id, renew)
            report.projects_deleted.append(project_id)
            continue
        for rule in RULES:
            cutoff = now - timedelta(days=_limit(settings, chosen, rule) * rule.days)
            where = _due(rule, project_id, cutoff)
            removed = await _remove(db, settings, store, rule, where, renew)
            report.removed[rule.name] = report.removed.get(rule.name, 0) + removed
    # What belongs to no project: accounts' login history, and built exports.
    logins = table("login_events")
    old_logins = logins.c.at < now - timedelta(days=settings.retention_login_days)
    report.removed["login_events"] = await _delete_where(
        db, settings, "login_events", old_logins, renew
    )
    kept = timedelta(hours=settings.privacy_export_keep_hours)
    report.removed["exports"] = await content.expire_exports(db, store, now - kept)
    async with db.transaction() as tx:
        await (await tx.connection()).execute(
            update(leases)
            .where(leases.c.name == LEASE, leases.c.holder == holder)
            .values(until=None, last_run_at=now)
        )
    return report


async def _note_closed(
    db: Database,
    settings: Settings,
    project_id: int,
    status: str,
    chosen: PrivacySettings | None,
    now: datetime,
) -> bool:
    """Notes when a project was first seen closed; True once it has been closed long enough."""
    closed = status == ProjectStatus.closed
    since = chosen.closed_since if chosen is not None else None
    async with db.transaction() as tx:
        if closed and since is None:
            chosen = chosen or PrivacySettings(project_id=project_id)
            chosen.closed_since = now
            tx.add(chosen)
        elif not closed and since is not None and chosen is not None:
            chosen.closed_since = None
            tx.add(chosen)
    if not closed or since is None:
        return False
    return since < now - timedelta(days=30 * _closed_months(settings, chosen))


async def _delete_where(
    db: Database, settings: Settings, name: str, where: Any, progress: Progress
) -> int:
    target = table(name)
    removed = 0
    while True:
        async with db.transaction() as tx:
            connection = await tx.connection()
            ids = list(
                (
                    await connection.execute(
                        select(key(target)).where(where).limit(settings.privacy_batch_size)
                    )
                ).scalars()
            )
            if not ids:
                return removed
            removed += await delete_rows(connection, target, ids)
        await progress()


async def _delete_project(
    db: Database, settings: Settings, project_id: int, progress: Progress
) -> None:
    """Everything of the project, children first, then the pupil accounts it held."""
    memberships = table("memberships")
    users = table("users")
    async with db.reader() as tx:
        pupils = list(
            (
                await (await tx.connection()).execute(
                    select(users.c.id)
                    .join(memberships, memberships.c.user_id == users.c.id)
                    .where(memberships.c.project_id == project_id, users.c.kind == "pupil")
                )
            ).scalars()
        )
    for declaration, _ in reversed(declared()):
        if declaration.scope is None:
            continue
        where = in_project(declaration.table, project_id)
        await _delete_where(db, settings, declaration.table, where, progress)
    if pupils:
        await _delete_where(db, settings, "users", users.c.id.in_(pupils), progress)
