"""Backups of the embedded setup (one SQLite file and a local blob folder) that restore.

A backup is a plain folder: ``twinspace.db`` (a consistent copy taken with SQLite's online
backup API while the server runs), ``blobs/`` (the local blob store's files), the development
``secret_key`` when there is one, and ``manifest.json`` (schema revision, time, row counts,
the database's digest and every blob's size), written last. It is built under
``<dest>.partial`` and renamed into place at the end, so a folder named like the destination
is always whole.

Order matters: the database is copied first, then the blobs. Blobs are content-addressed and
written atomically (temporary file, then rename), so every blob a row of the copied database
names already exists, whole, when the blob folder is copied after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twinspace_rt.storage.migrate import is_known_revision

MANIFEST = "manifest.json"
DATABASE = "twinspace.db"
BLOBS = "blobs"
SECRET_KEY = "secret_key"
FORMAT = 1
# Pages copied per step of the online backup: ~4 MiB at the default page size.
PAGES_PER_STEP = 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Embedded:
    """Where one embedded node keeps what a backup holds."""

    database: Path
    blobs: Path
    secret_key: Path


def _copy_database(source: Path, target: Path) -> str:
    """Copies a live database; returns the time its snapshot was taken (ISO 8601, UTC).

    The source connection opens a read transaction before the copy starts and keeps it to the
    end. In WAL mode a reader blocks no writer, so the node keeps committing; and because every
    step reads the same snapshot, the paged copy is never restarted by those commits (without
    the transaction SQLite starts over after each foreign write and, under load, may never end).
    """
    if not source.is_file():
        raise BackupError(f"no database at {source}: is the data folder right?")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        began = datetime.now(UTC).isoformat()
        src.backup(dst, pages=PAGES_PER_STEP)
        src.execute("COMMIT")
        # The copy is a single file: no WAL beside it to lose when it is moved.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        src.close()
        dst.close()
    return began


def _blob_files(root: Path) -> list[Path]:
    """The store's files; dot files are writes in flight (``LocalBlobStore.put``)."""
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _describe(database: Path) -> tuple[str | None, dict[str, int]]:
    """The copy's schema revision and the row count of every table."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            str(name)
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {
            table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
            for table in tables
        }
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
    finally:
        connection.close()
    return revision, counts


def _is_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def backup(node: Embedded, dest: Path) -> dict[str, Any]:
    """Writes a whole backup folder at ``dest`` (new, or an empty folder); returns its manifest."""
    if not _is_empty(dest):
        raise BackupError(f"{dest} already exists: give a new folder for each backup")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        began = _copy_database(node.database, partial / DATABASE)
        blobs: dict[str, int] = {}
        for path in _blob_files(node.blobs):
            key = path.relative_to(node.blobs).as_posix()
            copy = partial / BLOBS / key
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(path, copy)
            except FileNotFoundError:
                continue  # deleted since it was listed: no row of the copy needs it
            blobs[key] = copy.stat().st_size
        if node.secret_key.is_file():
            shutil.copyfile(node.secret_key, partial / SECRET_KEY)
            os.chmod(partial / SECRET_KEY, 0o600)
        revision, counts = _describe(partial / DATABASE)
        manifest = {
            "format": FORMAT,
            "began": began,
            "finished": datetime.now(UTC).isoformat(),
            "schema_revision": revision,
            "database_sha256": _digest(partial / DATABASE),
            "rows": counts,
            "blob_count": len(blobs),
            "blob_bytes": sum(blobs.values()),
            "blobs": blobs,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def check(src: Path) -> dict[str, Any]:
    """Reads and checks a backup folder: manifest, database digest and integrity, blob sizes."""
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{src} has no {MANIFEST}: not a backup, or an unfinished one") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"{src / MANIFEST} is damaged: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src / MANIFEST} is not a format-{FORMAT} backup manifest")
    revision = manifest.get("schema_revision")
    if not is_known_revision(revision):
        raise BackupError(
            f"the backup's schema {revision} is unknown to this version: restore it with the "
            "version that wrote it (or a newer one)"
        )
    database = src / DATABASE
    if not database.is_file():
        raise BackupError(f"{src} has no {DATABASE}")
    if _digest(database) != manifest.get("database_sha256"):
        raise BackupError(f"{database} is not the file the backup wrote (its digest differs)")
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            verdict = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{database} is damaged: {exc}") from exc
    if verdict != ["ok"]:
        raise BackupError(f"{database} is damaged: {'; '.join(verdict[:5])}")
    for key, size in dict(manifest.get("blobs", {})).items():
        path = src / BLOBS / key
        if not path.is_file() or path.stat().st_size != size:
            raise BackupError(f"blob {key} is missing from {src / BLOBS} or has another size")
    return manifest


def restore(src: Path, node: Embedded, force: bool = False) -> dict[str, Any]:
    """Checks the backup, then puts it where the node reads it; returns its manifest.

    Refuses a place that already holds data unless ``force``: that data is then replaced (the
    old database, its WAL and the blob folder go first, so nothing of them mixes in).
    """
    manifest = check(src)
    places = {node.database.parent, node.blobs}
    full = sorted(str(p) for p in places if not _is_empty(p))
    if full and not force:
        raise BackupError(
            f"{', '.join(full)} is not empty: restore into an empty data folder, "
            "or pass --force to replace what is there"
        )
    for suffix in ("", "-wal", "-shm"):
        node.database.with_name(node.database.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(node.blobs, ignore_errors=True)
    node.database.parent.mkdir(parents=True, exist_ok=True)
    partial = node.database.with_name(node.database.name + ".partial")
    shutil.copyfile(src / DATABASE, partial)
    if (src / BLOBS).is_dir():
        shutil.copytree(src / BLOBS, node.blobs)
    if (src / SECRET_KEY).is_file():
        node.secret_key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / SECRET_KEY, node.secret_key)
        os.chmod(node.secret_key, 0o600)
    # The database appears last and whole: a restore cut short leaves no database to start on.
    partial.rename(node.database)
    return manifest
