"""Journal posts and comments in room search, as the member may read them.

The same rule as the journal itself (`journal/posts.py`): published posts for everyone with
``journal.read``; a post in review only for its author and members with ``journal.moderate``;
a comment only where its post is seen; deleted posts and comments never match.
"""

from __future__ import annotations

from typing import Any

from twinspace_rt.auth.policy import Action, Member, can

_SEEN = """
  AND j.project_id = :project AND j.deleted_at IS NULL
  AND (j.state = 'published' OR :moderator OR j.author_id = :me)
  AND (j.parent_id IS NULL OR (p.deleted_at IS NULL
       AND (p.state = 'published' OR :moderator OR p.author_id = :me)))
"""
JOURNAL_SQLITE = f"""
SELECT j.id, j.created_at, j.author_id, j.parent_id, highlight(journal_fts, 0, :start, :stop)
FROM journal_fts JOIN journal_posts j ON j.id = journal_fts.rowid
LEFT JOIN journal_posts p ON p.id = j.parent_id
WHERE journal_fts MATCH :query AND journal_fts.rowid < :before {_SEEN}
ORDER BY journal_fts.rowid DESC LIMIT :limit
"""
JOURNAL_POSTGRES = f"""
SELECT j.id, j.created_at, j.author_id, j.parent_id,
       ts_headline('simple', j.body, q.query, :options)
FROM journal_posts j LEFT JOIN journal_posts p ON p.id = j.parent_id,
     to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', j.body) @@ q.query AND j.id < :before {_SEEN}
ORDER BY j.id DESC LIMIT :limit
"""


def params(member: Member) -> dict[str, Any] | None:
    """The bind parameters of the member's view; None without ``journal.read``."""
    if not can(member, Action.journal_read):
        return None
    return {
        "project": member.project_id,
        "me": member.user_id,
        "moderator": can(member, Action.journal_moderate),
    }


def hit(row: Any, snippet: str) -> dict[str, Any]:
    return {
        "kind": "journal",
        "id": row[0],
        "created_at": row[1],
        "author_id": row[2],
        "parent_id": row[3],
        "snippet": snippet,
    }
