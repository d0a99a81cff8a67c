"""The privacy registry guards every table: a new table or column that holds personal data or
points to a user and is not declared fails here (Moodle's provider test, as a schema walk)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Column, ForeignKey, Integer, MetaData, String, Table, inspect
from sqlmodel import AutoString, SQLModel

import twinspace_rt.app  # noqa: F401  (every module the application loads, with its tables)
from twinspace_rt.privacy.check import problems
from twinspace_rt.privacy.erasure import plan
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade
from twinspace_rt.storage.privacy import REGISTRY, Erase, TablePrivacy


def test_every_table_and_column_of_the_schema_is_declared() -> None:
    assert problems(list(SQLModel.metadata.sorted_tables), REGISTRY) == []


def test_the_guard_catches_what_a_new_feature_could_forget() -> None:
    """Undeclared tables, user references, text columns, stale names and custom rules."""
    metadata = MetaData()
    users = Table("users", metadata, Column("id", Integer, primary_key=True))
    photos = Table(
        "photos",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("project_id", Integer),
        Column("uploader_id", Integer, ForeignKey("users.id")),
        Column("caption", String(200)),
        Column("exif", JSON),
        # What a SQLModel ``str`` field becomes: text behind a type decorator.
        Column("alt_text", AutoString),
    )
    notes = Table("notes", metadata, Column("id", Integer, primary_key=True))
    registry = {
        "users": TablePrivacy("users", scope=None),
        "photos": TablePrivacy("photos", plain=("caption", "colour"), users={}),
    }
    found = problems([users, photos, notes], registry)
    assert found == [
        "photos.colour: declared but no such column",
        "photos.uploader_id: points to a user, no erasure rule",
        "photos.exif: text, neither personal nor plain",
        "photos.alt_text: text, neither personal nor plain",
        "notes: not declared in the privacy registry",
    ]
    registry["photos"] = TablePrivacy(
        "photos",
        users={"uploader_id": Erase.custom},
        personal=("exif", "alt_text"),
        plain=("caption",),
        scope="album_id>albums",
    )
    assert problems([photos], registry) == [
        "photos: custom erasure but no rewrite in privacy/custom.py",
        "photos: scope 'album_id>albums' does not resolve",
    ]


def test_every_user_column_has_a_step_in_an_account_erasure() -> None:
    steps = {(s.table, s.column) for s in plan(None)}
    for name, declaration in REGISTRY.items():
        for column, action in declaration.users.items():
            if action is not Erase.custom:
                assert (name, column) in steps


async def test_the_migrated_schema_holds_no_table_the_models_do_not_know(
    settings: Settings,
) -> None:
    """A table made by a migration alone (not a model) would escape the walk above."""
    db = Database(settings.effective_database_url)
    await upgrade(db)
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    await db.close()
    # Search indexes: FTS5 tables and their shadow tables mirror declared columns.
    fts = ("chat_fts", "forum_fts", "doc_fts", "journal_fts", "material_fts")
    own = {t for t in tables if not t.startswith(fts)} - {"alembic_version"}
    assert own == set(SQLModel.metadata.tables)


def test_privacy_md_names_every_table_for_the_data_protection_officer() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "PRIVACY.md").read_text()
    missing = [name for name in REGISTRY if f"`{name}`" not in guide]
    assert missing == []
