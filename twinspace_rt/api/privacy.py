"""Privacy requests over REST: export or erase a member, a teacher's own account, the
download of an export, and a project's retention settings with the next run's dry run."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from twinspace_rt.api.http import (
    Endpoint,
    caller,
    in_room,
    query_int,
    read_body,
    respond,
    room_changed,
    services,
)
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.api.schemas import Input
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.privacy import export, links, requests, retention
from twinspace_rt.privacy.requests import Requested
from twinspace_rt.projects import audit
from twinspace_rt.storage.privacy_models import PrivacyJob, PrivacySettings

Language = Literal["en", "ar", "ca", "da", "it", "tr"]
Limit = Annotated[int, Field(ge=1, le=1200)]


class ExportIn(Input):
    language: Language = "en"


class JobOut(BaseModel):
    id: int
    kind: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    # For a finished export, to its requester: a signed link that expires.
    download: str | None = None
    download_expires: int | None = None


class PrivacySettingsIn(Input):
    erase_mode: Literal["blank", "delete"] | None = None
    chat_days: Limit | None = None
    materials_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    journal_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    closed_months: Annotated[int, Field(ge=1, le=120)] | None = None
    audit_years: Annotated[int, Field(ge=1, le=30)] | None = None


class PrivacySettingsOut(BaseModel):
    """The project's choices and the server defaults that stand where it chose nothing."""

    erase_mode: str
    chat_days: int
    materials_days: int
    journal_days: int
    closed_months: int
    audit_years: int
    closed_since: datetime | None


class DueOut(BaseModel):
    id: int
    label: str
    created_at: datetime


class RetentionPreviewOut(BaseModel):
    removed: dict[str, int]
    project_deleted: bool
    # The first of what goes, oldest first, for `materials` (file names) and `journal_posts`
    # (the start of each text).
    listed: dict[str, list[DueOut]]


def _job_out(request: Request, job: PrivacyJob, user_id: int) -> JobOut:
    assert job.id is not None
    out = JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
    if job.kind == requests.EXPORT and job.state == "done" and job.requested_by == user_id:
        settings = services(request).settings
        expires = int(time.time()) + settings.privacy_export_link_seconds
        signature = links.signature(settings.signing_key, job.id, user_id, expires)
        out.download = (
            f"/api/privacy/exports/{job.id}/download?expires={expires}&signature={signature}"
        )
        out.download_expires = expires
    return out


async def _started(request: Request, requested: Requested, user_id: int) -> Response:
    for project_id in requested.projects:
        await room_changed(request, project_id)
    services(request).privacy.wake()
    return respond(_job_out(request, requested.job, user_id), 202)


async def erase_member(request: Request) -> Response:
    async with in_room(request, Action.privacy_manage) as (tx, project, actor):
        requested = await requests.erase_member(tx, actor, project, request.path_params["user_id"])
    return await _started(request, requested, actor.user_id)


async def export_member(request: Request) -> Response:
    body = await read_body(request, ExportIn)
    async with in_room(request, Action.privacy_manage) as (tx, _, actor):
        job = await requests.export_member(tx, actor, request.path_params["user_id"], body.language)
    return await _started(request, Requested(job, []), actor.user_id)


async def erase_account(request: Request) -> Response:
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
        requested = await requests.erase_account(tx, user)
    assert user.id is not None
    return await _started(request, requested, user.id)


async def export_account(request: Request) -> Response:
    body = await read_body(request, ExportIn)
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
        job = await requests.export_account(tx, user, body.language)
    assert user.id is not None
    return await _started(request, Requested(job, []), user.id)


async def _own_job(request: Request, kind: str | None = None) -> tuple[PrivacyJob, int]:
    """Only its requester sees a job; to anyone else it does not exist."""
    async with services(request).db.reader() as tx:
        user = await caller(request, tx)
        job = await tx.get(PrivacyJob, request.path_params["job_id"])
    if job is None or job.requested_by != user.id or (kind and job.kind != kind):
        raise AppError(ErrorCode.not_found, "No such privacy request of yours.")
    assert user.id is not None
    return job, user.id


async def get_job(request: Request) -> Response:
    job, user_id = await _own_job(request)
    return respond(_job_out(request, job, user_id))


async def download_export(request: Request) -> Response:
    job, user_id = await _own_job(request, requests.EXPORT)
    expires = query_int(request, "expires", 0, 0, 2**62) or 0
    given = request.query_params.get("signature", "")
    signing_key = services(request).settings.signing_key
    assert job.id is not None
    if not links.valid(signing_key, job.id, user_id, expires, given, time.time()):
        raise AppError(ErrorCode.link_expired)
    if job.state == "expired":
        raise AppError(ErrorCode.not_found, "This export has been deleted: ask for a new one.")
    if job.state != "done" or job.file_name is None:
        raise AppError(ErrorCode.not_found, "The export is not ready yet.")
    # Any node serves it: the archive is in the blob store the cluster shares.
    store = services(request).privacy.store
    key = export.blob_key(job.file_name)
    size = await store.size(key)
    if size is None:
        raise AppError(ErrorCode.not_found, "This export has been deleted: ask for a new one.")
    async with services(request).db.transaction() as tx:
        witnesses = await requests.witnesses(tx, user_id)
        for member in witnesses:
            if job.project_id in (None, member.project_id):
                audit.record(tx, member, "privacy.export.download", job.subject_user_id, job=job.id)
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": f'attachment; filename="twinspace-{job.id}.zip"',
    }
    return StreamingResponse(store.read(key), media_type="application/zip", headers=headers)


def _settings_out(request: Request, chosen: PrivacySettings | None) -> PrivacySettingsOut:
    defaults = services(request).settings

    def pick(name: str, default: int) -> int:
        value = getattr(chosen, name) if chosen is not None else None
        return int(value) if value is not None else default

    return PrivacySettingsOut(
        erase_mode=chosen.erase_mode if chosen else defaults.privacy_erase_mode,
        chat_days=pick("chat_days", defaults.retention_chat_days),
        materials_days=pick("materials_days", defaults.retention_materials_days),
        journal_days=pick("journal_days", defaults.retention_journal_days),
        closed_months=pick("closed_months", defaults.retention_closed_project_months),
        audit_years=pick("audit_years", defaults.retention_audit_years),
        closed_since=chosen.closed_since if chosen else None,
    )


async def get_settings(request: Request) -> Response:
    async with in_room(request, Action.privacy_manage) as (tx, _, member):
        chosen = await tx.get(PrivacySettings, member.project_id)
    return respond(_settings_out(request, chosen))


async def put_settings(request: Request) -> Response:
    body = await read_body(request, PrivacySettingsIn)
    async with in_room(request, Action.privacy_manage) as (tx, _, member):
        chosen = await tx.get(PrivacySettings, member.project_id)
        if chosen is None:
            default_mode = services(request).settings.privacy_erase_mode
            chosen = PrivacySettings(project_id=member.project_id, erase_mode=default_mode)
        changes = body.model_dump(exclude_unset=True)
        for name, value in changes.items():
            setattr(chosen, name, value)
        tx.add(chosen)
        audit.record(tx, member, "privacy.settings", None, **changes)
        await tx.flush()
    return respond(_settings_out(request, chosen))


async def retention_preview(request: Request) -> Response:
    async with in_room(request, Action.privacy_manage) as (_, _, member):
        project_id = member.project_id
    node = services(request)
    report = await retention.preview(node.db, node.settings, project_id, node.privacy.clock())
    return respond(
        RetentionPreviewOut(
            removed=report.removed,
            project_deleted=project_id in report.projects_deleted,
            listed={
                name: [DueOut(id=d.id, label=d.label, created_at=d.created_at) for d in due]
                for name, due in report.listed.items()
            },
        )
    )


MEMBER = PROJECT + "/members/{user_id:int}"
JOB = "/api/privacy/jobs/{job_id:int}"
MANAGE_ERRORS = ROOM_ERRORS + (ErrorCode.validation_failed,)

ENDPOINTS = [
    Endpoint(
        "POST",
        MEMBER + "/erase",
        erase_member,
        "Erase a member from this project; a member of no other project (every pupil) is "
        "erased whole, account included. Runs in the background (`privacy.manage`).",
        response=JobOut,
        status=202,
        errors=ROOM_ERRORS + (ErrorCode.last_admin, ErrorCode.founder_protected),
    ),
    Endpoint(
        "POST",
        MEMBER + "/export",
        export_member,
        "Export what this project holds about a member, as a ZIP built in the background "
        "(`privacy.manage`).",
        body=ExportIn,
        response=JobOut,
        status=202,
        errors=MANAGE_ERRORS,
    ),
    Endpoint(
        "POST",
        "/api/account/erase",
        erase_account,
        "Erase your own teacher account from every project; your tokens stop working at once.",
        response=JobOut,
        status=202,
        errors=(ErrorCode.unauthenticated, ErrorCode.forbidden, ErrorCode.last_admin),
    ),
    Endpoint(
        "POST",
        "/api/account/export",
        export_account,
        "Export everything stored about your teacher account, as a ZIP built in the background.",
        body=ExportIn,
        response=JobOut,
        status=202,
        errors=(ErrorCode.unauthenticated, ErrorCode.forbidden, ErrorCode.validation_failed),
    ),
    Endpoint(
        "GET",
        JOB,
        get_job,
        "A privacy request of yours: its state, and for a finished export a download link.",
        response=JobOut,
        errors=(ErrorCode.unauthenticated, ErrorCode.not_found),
    ),
    Endpoint(
        "GET",
        "/api/privacy/exports/{job_id:int}/download",
        download_export,
        "The export's ZIP, streamed; only with its link's signature and the requester's token.",
        errors=(ErrorCode.unauthenticated, ErrorCode.not_found, ErrorCode.link_expired),
        query={"expires": "from the download link"},
        text_query={"signature": "from the download link"},
    ),
    Endpoint(
        "GET",
        PROJECT + "/privacy",
        get_settings,
        "The project's erasure mode and retention periods (`privacy.manage`).",
        response=PrivacySettingsOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "PUT",
        PROJECT + "/privacy",
        put_settings,
        "Change the erasure mode or retention periods; fields left out keep their value "
        "(`privacy.manage`).",
        body=PrivacySettingsIn,
        response=PrivacySettingsOut,
        errors=MANAGE_ERRORS,
    ),
    Endpoint(
        "GET",
        PROJECT + "/privacy/retention",
        retention_preview,
        "Dry run: what the next retention run would remove in this project (`privacy.manage`).",
        response=RetentionPreviewOut,
        errors=ROOM_ERRORS,
    ),
]
