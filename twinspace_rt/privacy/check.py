"""The registry's guard: what `tests/privacy/test_registry.py` asserts is empty."""

from __future__ import annotations

from sqlalchemy import Table

from twinspace_rt.privacy.custom import RUN
from twinspace_rt.privacy.tables import textual
from twinspace_rt.storage.privacy import Erase, TablePrivacy


def problems(tables: list[Table], registry: dict[str, TablePrivacy]) -> list[str]:
    """Every way a schema can escape the registry: an undeclared table, a reference to a user
    with no erasure rule, a text or JSON column neither personal nor plain, a declaration
    naming a column or table that does not exist, a custom rule with no rewrite."""
    found: list[str] = []
    names = {t.name for t in tables}
    for target in tables:
        declaration = registry.get(target.name)
        if declaration is None:
            found.append(f"{target.name}: not declared in the privacy registry")
            continue
        named = {
            *declaration.users,
            *declaration.personal,
            *declaration.plain,
            *(declaration.export_by or ()),
            *declaration.secret,
            *declaration.rekey,
        }
        for name in sorted(named - set(target.c.keys())):
            found.append(f"{target.name}.{name}: declared but no such column")
        for column in target.c:
            points_to_user = any(fk.column.table.name == "users" for fk in column.foreign_keys)
            if points_to_user and column.name not in declaration.users:
                found.append(f"{target.name}.{column.name}: points to a user, no erasure rule")
            classified = column.name in declaration.personal or column.name in declaration.plain
            if textual(column) and not classified:
                found.append(f"{target.name}.{column.name}: text, neither personal nor plain")
        if Erase.custom in declaration.users.values() and target.name not in RUN:
            found.append(f"{target.name}: custom erasure but no rewrite in privacy/custom.py")
        if declaration.scope is not None:
            column_name, _, parent = declaration.scope.partition(">")
            if column_name not in target.c or (parent and parent not in names):
                found.append(f"{target.name}: scope {declaration.scope!r} does not resolve")
    return found
