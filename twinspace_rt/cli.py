"""The `twinspace-rt` command: serve, migrate, and the few admin tasks scripts need."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from twinspace_rt.auth.policy import matrix_markdown
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.documents import health
from twinspace_rt.errors import AppError
from twinspace_rt.materials.blobs import local_root
from twinspace_rt.projects import accounts
from twinspace_rt.settings import Environment, Settings
from twinspace_rt.storage import backup
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade
from twinspace_rt.ws.transport import uvicorn_config

# _LAZY: the app, the demo seed and `found_project` import every feature (~2 s of CPU); they are
# imported in the commands that need them, so `db upgrade`, `user add`, `token` and the others
# start in a third of the time (an operator's scripts, and the suite's CLI tests under load).


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[None]]) -> None:
    db = Database(settings.effective_database_url)
    try:
        await work(db)
    finally:
        await db.close()


# A node holds thousands of long-lived sockets. Collecting the young generation every 700
# allocations promotes objects that are merely in flight, and each full collection then scans
# every socket's state: at 100 rooms x 30 clients that pause set the p99 (bench/hub_fanout.py:
# 436 ms with the defaults, 164 ms with these).
GC_THRESHOLDS = (20_000, 20, 10)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if args.demo:
        if settings.env is Environment.production:
            raise SystemExit("--demo is refused when TWINSPACE_ENV=production")

        async def demo(db: Database) -> None:
            if settings.is_sqlite:
                await upgrade(db)
            from twinspace_rt.demo import seed_demo  # the whole server: see _LAZY

            project_id, logins = await seed_demo(db)
            print(f"\nDemo room ready (project {project_id}): open http://{host}:{port}/")
            print("The REST API is described at /openapi.json; the hub is /ws/projects/{id}.")
            row = "{:<16} {:<20} {:<14} {}"
            print(row.format("username", "password", "role", "name"))
            for login in logins:
                print(row.format(login.username, login.password, login.role, login.display_name))
            print(flush=True)

        asyncio.run(_with_db(settings, demo))
    gc.set_threshold(*GC_THRESHOLDS)
    from twinspace_rt.app import create_app  # see _LAZY

    config = uvicorn_config(create_app(settings), settings, host, port, settings.log_level)
    # Everything imported and built so far lives as long as the process: a full collection
    # need not scan it again. During a reconnect storm, full collections over the modules'
    # objects were a fifth of the node's CPU.
    gc.collect()
    gc.freeze()
    uvicorn.Server(config).run()


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(_with_db(settings, upgrade))
    print("database is at the newest schema")


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> None:
    password = args.password or getpass.getpass(f"Password for {args.username}: ")

    async def add(db: Database) -> None:
        async with db.transaction() as tx:
            user = await accounts.create_teacher(
                tx, args.username, password, args.name, args.country
            )
        print(f"teacher {user.username} created (id {user.id})")

    asyncio.run(_with_db(settings, add))


def cmd_project_add(settings: Settings, args: argparse.Namespace) -> None:
    async def add(db: Database) -> None:
        async with db.transaction() as tx:
            owner = await accounts.user_by_username(tx, args.owner)
            if owner is None:
                raise SystemExit(f"no user {args.owner!r}")
            from twinspace_rt.services import found_project  # see _LAZY

            project, _ = await found_project(tx, owner, args.name, args.description)
        print(f"project {project.id} {project.name!r} founded by {owner.username}")

    asyncio.run(_with_db(settings, add))


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    async def issue(db: Database) -> None:
        async with db.reader() as tx:
            user = await accounts.user_by_username(tx, args.username)
        if user is None or user.id is None:
            raise SystemExit(f"no user {args.username!r}")
        token, _ = TokenService(settings).issue(user.id, user.token_generation)
        print(token)

    asyncio.run(_with_db(settings, issue))


def cmd_docs_roles(settings: Settings, args: argparse.Namespace) -> None:
    sys.stdout.write(matrix_markdown())


def cmd_docs_check(settings: Settings, args: argparse.Namespace) -> None:
    """Lists stored document updates that do not apply; exits 1 if there are any (``check``),
    or moves them into the quarantine (``repair``)."""
    repair = args.docs == "repair"

    async def scan(db: Database) -> None:
        affected = await health.scan(db, repair)
        for found in affected:
            print(found.describe())
        rows = sum(len(found.skipped) for found in affected)
        projects = sorted({found.project_id for found in affected})
        if not affected:
            print("every stored document applies")
        elif repair:
            print(f"quarantined {rows} stored part(s) of {len(affected)} document(s)")
        else:
            listed = ", ".join(map(str, projects))
            print(
                f"{rows} stored part(s) of {len(affected)} document(s) in project(s) {listed} "
                "do not apply: run `twinspace-rt docs repair` to quarantine them"
            )
            raise SystemExit(1)

    asyncio.run(_with_db(settings, scan))


BACKUP_ELSEWHERE = "see docs/DEPLOY.md, section Backups and restores"


def embedded(settings: Settings) -> backup.Embedded:
    """The node's SQLite file and blob folder; refuses setups whose data lives elsewhere."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        raise SystemExit(
            f"error: the database is {url.get_backend_name()}, not the embedded SQLite: back it "
            f"up with pg_dump or WAL archiving ({BACKUP_ELSEWHERE})"
        )
    if url.database in (None, "", ":memory:"):
        raise SystemExit("error: an in-memory database has nothing to back up")
    blobs = local_root(settings)
    if blobs is None:
        raise SystemExit(
            "error: materials are in S3 (TWINSPACE_S3_ENDPOINT_URL); this command backs up only "
            "the embedded setup (SQLite and the local blob folder): keep the bucket with S3 "
            f"versioning or replication ({BACKUP_ELSEWHERE})"
        )
    return backup.Embedded(Path(url.database), blobs, settings.data_dir / "secret_key")


def _summary(manifest: dict[str, object]) -> str:
    rows = manifest["rows"]
    assert isinstance(rows, dict)
    return (
        f"schema {manifest['schema_revision']}, taken {manifest['began']}: "
        f"{rows.get('projects', 0)} room(s), {rows.get('chat_messages', 0)} chat message(s), "
        f"{rows.get('documents', 0)} document(s), {rows.get('materials', 0)} material(s), "
        f"{manifest['blob_count']} blob(s) of {manifest['blob_bytes']} bytes"
    )


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    try:
        manifest = backup.backup(embedded(settings), Path(args.dest))
    except backup.BackupError as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"backup written to {args.dest}: {_summary(manifest)}")


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    try:
        manifest = backup.restore(Path(args.src), embedded(settings), force=args.force)
    except backup.BackupError as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"restored into {settings.data_dir}: {_summary(manifest)}")
    print("`twinspace-rt serve` starts on it and migrates it to the newest schema first")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="twinspace-rt", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="seed the demo room, print its logins")
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(run=cmd_db_upgrade)

    user = commands.add_parser("user", help="accounts").add_subparsers(dest="user", required=True)
    user_add = user.add_parser("add", help="create a teacher account")
    user_add.add_argument("username")
    user_add.add_argument("--password")
    user_add.add_argument("--name")
    user_add.add_argument("--country", help="two-letter country code")
    user_add.set_defaults(run=cmd_user_add)

    project = commands.add_parser("project", help="project rooms").add_subparsers(
        dest="project", required=True
    )
    project_add = project.add_parser("add", help="found a project")
    project_add.add_argument("name")
    project_add.add_argument("--owner", required=True, help="the founding teacher's username")
    project_add.add_argument("--description", default="")
    project_add.set_defaults(run=cmd_project_add)

    token = commands.add_parser("token", help="print an access token for a user")
    token.add_argument("username")
    token.set_defaults(run=cmd_token)

    take = commands.add_parser(
        "backup", help="copy the embedded database and blobs, also while the server runs"
    )
    take.add_argument("dest", help="a new folder to write the backup into")
    take.set_defaults(run=cmd_backup)

    restore = commands.add_parser("restore", help="check a backup and put it in the data folder")
    restore.add_argument("src", help="a folder written by `twinspace-rt backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace the data already in the data folder"
    )
    restore.set_defaults(run=cmd_restore)

    docs = commands.add_parser(
        "docs", help="generated docs; stored documents that do not apply"
    ).add_subparsers(dest="docs", required=True)
    docs.add_parser("roles", help="print docs/ROLES.md").set_defaults(run=cmd_docs_roles)
    docs.add_parser(
        "check", help="list stored document updates that do not apply (exit 1 if any)"
    ).set_defaults(run=cmd_docs_check)
    docs.add_parser(
        "repair", help="move stored document updates that do not apply into the quarantine"
    ).set_defaults(run=cmd_docs_check)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SystemExit(f"invalid settings: {exc}") from exc
    try:
        args.run(settings, args)
    except AppError as exc:
        raise SystemExit(f"error: {exc.code.value}: {exc.message}") from exc
