"""Materials in room search, by title and file name, as the member may see them.

The same rule as the albums and folders (`materials/library.py`): approved materials for
everyone with ``materials.read``; a pending one only for its uploader and for reviewers
(``materials.review``); a rejected one for nobody. File names are split at dots, dashes and
underscores on both engines, so ``river`` finds *river_photo.jpg*.
"""

from __future__ import annotations

from typing import Any

from twinspace_rt.auth.policy import Action, Member, can

_SEEN = """
  AND m.project_id = :project AND m.status != 'rejected'
  AND (m.status = 'approved' OR :reviewer OR m.uploader_id = :me)
"""
# PostgreSQL's parser reads "photo.jpg" as one file-name token: split it as SQLite does.
# The same expression backs the GIN index (migration 0012).
POSTGRES_TEXT = "m.title || ' ' || translate(m.filename, '._-', '   ')"
MATERIALS_SQLITE = f"""
SELECT m.id, m.created_at, m.uploader_id, m.title, m.filename, m.kind,
       CASE WHEN m.title = '' THEN highlight(material_fts, 1, :start, :stop)
            ELSE highlight(material_fts, 0, :start, :stop) || ' · '
                 || highlight(material_fts, 1, :start, :stop) END
FROM material_fts JOIN materials m ON m.id = material_fts.rowid
WHERE material_fts MATCH :query AND material_fts.rowid < :before {_SEEN}
ORDER BY material_fts.rowid DESC LIMIT :limit
"""
MATERIALS_POSTGRES = f"""
SELECT m.id, m.created_at, m.uploader_id, m.title, m.filename, m.kind,
       ts_headline('simple', CASE WHEN m.title = '' THEN m.filename
                                  ELSE m.title || ' · ' || m.filename END, q.query, :options)
FROM materials m, to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', {POSTGRES_TEXT}) @@ q.query AND m.id < :before
  {_SEEN}
ORDER BY m.id DESC LIMIT :limit
"""


def params(member: Member) -> dict[str, Any] | None:
    """The bind parameters of the member's view; None without ``materials.read``."""
    if not can(member, Action.materials_read):
        return None
    return {
        "project": member.project_id,
        "me": member.user_id,
        "reviewer": can(member, Action.materials_review),
    }


def hit(row: Any, snippet: str) -> dict[str, Any]:
    return {
        "kind": "material",
        "id": row[0],
        "created_at": row[1],
        "author_id": row[2],
        "title": row[3],
        "filename": row[4],
        "media": row[5],
        "snippet": snippet,
    }
