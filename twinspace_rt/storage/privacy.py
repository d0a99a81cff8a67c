"""The privacy registry's vocabulary: what each table holds about people, and what a member's
export and erasure do with it.

Each models module declares its tables next to them (``declare(TablePrivacy(...))``); the
privacy package (`twinspace_rt/privacy/`) reads these declarations and does the work, so a new
table needs one declaration and no new erasure code. `tests/privacy/test_registry.py` walks
every table and column of the metadata and fails when a table is not declared, when a column
pointing to ``users.id`` has no erasure rule, or when a text or JSON column is neither declared
personal nor declared plain.

Modelled on Moodle's Privacy API (a provider per component, a test over every component),
with Discourse's anonymiser for what stays: content others replied to keeps its place under a
pseudonymous "former member" account instead of the member's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Erase(StrEnum):
    """What erasing a member does to a column that points to them (or to the row holding it)."""

    # The row is the member's own and goes: reactions, read markers, mutes, seats.
    delete_row = "delete_row"
    # The link is cut (the column becomes NULL): who last edited a document, who deleted a post.
    unlink = "unlink"
    # The row stays, credited to the erasure's pseudonymous account: threads, channels, forums.
    pseudonymise = "pseudonymise"
    # Authored content: blanked to "(removed)" (or deleted, by the project's ``erase_mode``)
    # and credited to the pseudonymous account, so replies and threads stay readable.
    authored = "authored"
    # A feature-specific rewrite registered in `privacy/custom.py` (stored push frames, audit
    # details); the registry test checks one exists for each such table.
    custom = "custom"


REMOVED = "(removed)"


@dataclass(frozen=True)
class TablePrivacy:
    """One table's declaration.

    ``users``: column -> what erasure does; every column with a foreign key to ``users.id``
    must be here. ``personal``: text or JSON columns holding what a member wrote or who they
    are; ``plain``: text or JSON columns holding nothing personal (names of channels, states).
    ``scope`` says how a row reaches its project, for erasure from one project only: a column
    holding the project id, or ``"fk_column>parent_table"`` to follow a foreign key; None for
    rows of no project (the account itself). ``export``: the module name in the export ZIP,
    None when the table is not part of a member's export (derived or duplicated data);
    ``export_by`` the column that selects the member's rows (default: every ``users`` column).
    ``secret`` columns are left out of exports. ``collaborative`` marks content that stays
    whole when its authors are erased (shared documents), as Moodle treats wiki pages.
    """

    table: str
    users: dict[str, Erase] = field(default_factory=dict)
    personal: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()
    scope: str | None = "project_id"
    export: str | None = None
    export_by: tuple[str, ...] | None = None
    collaborative: bool = False
    # Never exported, even to the member: credentials.
    secret: tuple[str, ...] = ()
    # Client-chosen keys under a unique constraint: an erasure replaces them with the row's id.
    rekey: tuple[str, ...] = ()
    why: str = ""


REGISTRY: dict[str, TablePrivacy] = {}


def declare(*declarations: TablePrivacy) -> None:
    """Called by each models module for its tables, at import, next to the table classes."""
    for declaration in declarations:
        if declaration.table in REGISTRY and REGISTRY[declaration.table] != declaration:
            raise RuntimeError(f"privacy declared twice for {declaration.table}")
        REGISTRY[declaration.table] = declaration
