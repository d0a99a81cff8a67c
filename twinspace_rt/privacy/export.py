"""A member's export: one ZIP with a JSON file per declared table and a readable index.

Written to a scratch file of the building node batch by batch through ``zipfile``'s streaming
writer, so neither the rows nor the archive are ever held whole in memory, then streamed into
the blob store (`materials/blobs.py`: the local folder, or S3 for a cluster) under
``exports/<file name>``: whichever node a download reaches streams it from there
(`api/privacy.py`). The retention run deletes it ``privacy_export_keep_hours`` later. Which
rows belong to the member comes from the declarations (`storage/privacy.py`: ``export``,
``export_by``, ``secret``).
"""

from __future__ import annotations

import html
import io
import json
import secrets
import zipfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, func, or_, select

from twinspace_rt.materials.blobs import BlobStore, file_chunks
from twinspace_rt.privacy.context import Progress, key
from twinspace_rt.privacy.index_text import INDEX_TEXT
from twinspace_rt.privacy.tables import declared, in_project, table
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.privacy import Erase, TablePrivacy
from twinspace_rt.storage.privacy_models import PrivacyJob

BATCH = 500
PREFIX = "exports/"
PARTIAL = ".part"


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return {"bytes": len(value)}
    return value


def blob_key(file_name: str) -> str:
    return f"{PREFIX}{file_name}"


async def build(
    db: Database,
    job: PrivacyJob,
    store: BlobStore,
    scratch: Path,
    chunk_bytes: int,
    progress: Progress,
) -> str:
    """Writes the archive to ``scratch``, stores it whole, and returns its file name (the
    scratch file goes either way; a node killed mid-build leaves one, swept at its start)."""
    assert job.id is not None and job.subject_user_id is not None
    name = f"export-{job.id}-{secrets.token_hex(8)}.zip"
    partial = scratch / (name + PARTIAL)
    try:
        await _write(db, job, partial, progress)
        await store.put(blob_key(name), file_chunks(partial, chunk_bytes))
    finally:
        partial.unlink(missing_ok=True)
    return name


async def _write(db: Database, job: PrivacyJob, partial: Path, progress: Progress) -> None:
    counts: list[tuple[str, str, int]] = []
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for declaration, target in declared():
            if declaration.export is None:
                continue
            path = f"{declaration.export}/{declaration.table}.json"
            with archive.open(path, "w") as raw:
                count = await _write_rows(db, job, declaration, target, raw, progress)
            counts.append((declaration.export, path, count))
        with archive.open("documents/share_of_edits.json", "w") as raw:
            await _write_shares(db, job, raw)
        archive.writestr("index.html", _index(job, counts))


async def _write_rows(
    db: Database,
    job: PrivacyJob,
    declaration: TablePrivacy,
    target: Table,
    raw: IO[bytes],
    progress: Progress,
) -> int:
    by = declaration.export_by or tuple(
        c for c, action in declaration.users.items() if action is not Erase.custom
    )
    theirs = or_(*(target.c[c] == job.subject_user_id for c in by))
    scoped = (
        in_project(declaration.table, job.project_id) if declaration.scope is not None else None
    )
    columns = [c for c in target.c if c.name not in declaration.secret]
    order = key(target)
    out = io.TextIOWrapper(raw, encoding="utf-8")
    out.write("[")
    count = 0
    last: Any = None
    while True:
        query = select(*columns).where(theirs).order_by(order).limit(BATCH)
        if scoped is not None:
            query = query.where(scoped)
        if last is not None:
            query = query.where(order > last)
        async with db.reader() as tx:
            rows = (await (await tx.connection()).execute(query)).mappings().all()
        if not rows:
            break
        for row in rows:
            out.write(",\n" if count else "\n")
            out.write(json.dumps({k: _value(v) for k, v in row.items()}, ensure_ascii=False))
            count += 1
        last = rows[-1][order.name]
        await progress()
    out.write("\n]\n")
    out.flush()
    out.detach()
    return count


async def _write_shares(db: Database, job: PrivacyJob, raw: IO[bytes]) -> None:
    """Per document the member edited: their edits and bytes against everyone's still logged
    (edits already folded into a snapshot by compaction are no longer attributable)."""
    updates = table("doc_updates")
    size = func.sum(func.length(updates.c.data))
    query = (
        select(updates.c.document_id, func.count(), size)
        .where(updates.c.user_id == job.subject_user_id)
        .group_by(updates.c.document_id)
    )
    if job.project_id is not None:
        query = query.where(in_project("doc_updates", job.project_id))
    async with db.reader() as tx:
        connection = await tx.connection()
        mine = (await connection.execute(query)).all()
        shares = []
        for document_id, edits, size_mine in mine:
            everyone = (
                await connection.execute(
                    select(func.count(), size).where(updates.c.document_id == document_id)
                )
            ).one()
            shares.append(
                {
                    "document_id": document_id,
                    "edits": edits,
                    "edits_by_everyone": everyone[0],
                    "bytes": int(size_mine or 0),
                    "bytes_by_everyone": int(everyone[1] or 0),
                }
            )
    raw.write(json.dumps(shares, indent=1).encode())


def _index(job: PrivacyJob, counts: list[tuple[str, str, int]]) -> str:
    """A page a parent can open without tools, in the language the request was made in."""
    text = INDEX_TEXT.get(job.language, INDEX_TEXT["en"])
    direction = "rtl" if job.language == "ar" else "ltr"
    rows = "\n".join(
        f'<tr><td>{html.escape(part)}</td><td><a href="{html.escape(path)}">'
        f"{html.escape(path)}</a></td><td>{count}</td></tr>"
        for part, path, count in counts
    )
    return (
        f'<!doctype html>\n<html lang="{job.language}" dir="{direction}">\n<head>'
        f'<meta charset="utf-8"><title>{html.escape(text["title"])}</title></head>\n<body>\n'
        f"<h1>{html.escape(text['title'])}</h1>\n<p>{html.escape(text['intro'])}</p>\n"
        f"<table>\n<tr><th>{html.escape(text['part'])}</th><th>{html.escape(text['file'])}</th>"
        f"<th>{html.escape(text['records'])}</th></tr>\n{rows}\n</table>\n"
        f"<p>{html.escape(text['shares'])}: "
        '<a href="documents/share_of_edits.json">documents/share_of_edits.json</a></p>\n'
        "</body>\n</html>\n"
    )
