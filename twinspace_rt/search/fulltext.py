"""Room search over chat messages, forum and bulletin posts, pages, documents, journal posts
and materials, with the database's engine.

SQLite: FTS5 external-content tables (``chat_fts``, ``forum_fts``, ``doc_fts``,
``journal_fts``, ``material_fts``) kept in sync by triggers.
PostgreSQL: ``to_tsvector('simple', …)`` behind GIN expression indexes. The ``simple``
configuration (lower-case, no stemming, no stop words) is chosen on purpose: a room mixes
Italian, Turkish, Danish… in one thread, and a language's stemmer applied to another language
mangles words instead of helping. Prefix matching on every term (`search/terms.py`) stands in
for stemming in all languages alike.

What a member may see is decided before the engine runs: chat only in the channels they may
read, forum posts only in their project, bulletin posts only with ``bulletin.read``, pages
only as the member's menu shows them (`search/pages.py`), documents as the Documents list does
(`search/documents.py`), journal posts as the journal does (`search/journal.py`), materials as
their albums and folders do (`search/materials.py`); deleted messages and posts never match.

Results are newest first. Each source is paged by keyset on its row id (a page and a document
on its document's id), and the cursor carries one position per source, so rows added while a
member pages never shift the pages still to come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.chat import channels
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.search import documents, journal, materials, pages
from twinspace_rt.search.terms import MARK_END, MARK_START, fts5_query, snippet_html, terms, tsquery
from twinspace_rt.search.time_bound import TimeBound, time_bound
from twinspace_rt.settings import Settings

_CHAT_SQLITE = """
SELECT m.id, m.created_at, m.author_id, m.seq, c.name,
       highlight(chat_fts, 0, :start, :stop)
FROM chat_fts JOIN chat_messages m ON m.id = chat_fts.rowid
JOIN chat_channels c ON c.id = m.channel_id
WHERE chat_fts MATCH :query AND m.channel_id IN :channels AND m.deleted_at IS NULL
  AND chat_fts.rowid < :before
ORDER BY chat_fts.rowid DESC LIMIT :limit
"""
_CHAT_POSTGRES = """
SELECT m.id, m.created_at, m.author_id, m.seq, c.name,
       ts_headline('simple', m.text, q.query, :options)
FROM chat_messages m JOIN chat_channels c ON c.id = m.channel_id,
     to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', m.text) @@ q.query AND m.channel_id IN :channels
  AND m.deleted_at IS NULL AND m.id < :before
ORDER BY m.id DESC LIMIT :limit
"""
_POSTS_SQLITE = """
SELECT p.id, p.created_at, p.author_id, p.board, p.thread_id, t.title,
       highlight(forum_fts, 0, :start, :stop)
FROM forum_fts JOIN forum_posts p ON p.id = forum_fts.rowid
LEFT JOIN forum_threads t ON t.id = p.thread_id
WHERE forum_fts MATCH :query AND p.project_id = :project AND p.board IN :boards
  AND p.deleted_at IS NULL AND forum_fts.rowid < :before
ORDER BY forum_fts.rowid DESC LIMIT :limit
"""
_POSTS_POSTGRES = """
SELECT p.id, p.created_at, p.author_id, p.board, p.thread_id, t.title,
       ts_headline('simple', p.body, q.query, :options)
FROM forum_posts p LEFT JOIN forum_threads t ON t.id = p.thread_id,
     to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', p.body) @@ q.query AND p.project_id = :project
  AND p.board IN :boards AND p.deleted_at IS NULL AND p.id < :before
ORDER BY p.id DESC LIMIT :limit
"""
_HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8"
_NO_BOUND = 2**31 - 1  # ids are 32-bit integers


_SOURCES = ("chat", "posts", "pages", "journal", "documents", "materials")
# The field of a source's hits its keyset runs on (``id`` where not named).
_KEYS = {"pages": "document_id", "documents": "document_id"}


@dataclass
class Cursor:
    """Where each source stands: ``None`` not started, ``0`` exhausted, else the next id bound."""

    chat: int | None = None
    posts: int | None = None
    pages: int | None = None
    journal: int | None = None
    documents: int | None = None
    materials: int | None = None

    @classmethod
    def parse(cls, raw: str | None) -> Cursor:
        if raw is None:
            return cls()
        parts = raw.split(".")
        try:
            values = [None if p == "" else int(p) for p in parts]
        except ValueError as exc:
            raise AppError(ErrorCode.validation_failed, "`cursor` is not one we gave.") from exc
        if len(values) != len(_SOURCES) or any(
            v is not None and not 0 <= v <= _NO_BOUND for v in values
        ):
            raise AppError(ErrorCode.validation_failed, "`cursor` is not one we gave.")
        return cls(*values)

    def encode(self) -> str:
        return ".".join("" if v is None else str(v) for v in self.values())

    def values(self) -> list[int | None]:
        return [getattr(self, source) for source in _SOURCES]


@dataclass
class Results:
    """One page of results (named so beside the project's pages)."""

    hits: list[dict[str, Any]]
    next_cursor: str | None


async def search(
    tx: AsyncSession,
    settings: Settings,
    member: Member,
    query: str,
    cursor: str | None,
    limit: int,
) -> Results:
    """Within ``search_timeout_ms`` (``search/time_bound.py``), or ``search_timeout``."""
    words = terms(query, settings.search_terms_max, settings.search_term_max_chars)
    position = Cursor.parse(cursor)
    postgres = tx.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {"limit": limit + 1, "start": MARK_START, "stop": MARK_END}
    prefix_min = settings.search_prefix_min_chars
    if postgres:
        params.update(query=tsquery(words, prefix_min), options=_HEADLINE)
    else:
        params["query"] = fts5_query(words, prefix_min)
    readable = await _readable_channels(tx, member, position.chat)
    seen_pages = [] if position.pages == 0 else await pages.readable(tx, member)
    seen_docs = [] if position.documents == 0 else await documents.readable(tx, member)
    async with time_bound(tx, settings.search_timeout_ms) as bound:
        found = {
            "chat": await _chat_hits(bound, readable, postgres, params, position.chat),
            "posts": await _post_hits(bound, member, postgres, params, position.posts),
            "pages": await _text_hits(
                bound, pages.sql(postgres), pages.hit, seen_pages, params, position.pages
            ),
            "journal": await _member_hits(
                bound,
                journal,
                (journal.JOURNAL_POSTGRES, journal.JOURNAL_SQLITE),
                member,
                postgres,
                params,
                position.journal,
            ),
            "documents": await _text_hits(
                bound,
                documents.sql(postgres),
                documents.hit,
                seen_docs,
                params,
                position.documents,
            ),
            "materials": await _member_hits(
                bound,
                materials,
                (materials.MATERIALS_POSTGRES, materials.MATERIALS_SQLITE),
                member,
                postgres,
                params,
                position.materials,
            ),
        }
    merged = sorted(
        (h for hits in found.values() for h in hits),
        key=lambda h: (h["created_at"], h["kind"], h["id"]),
    )[::-1]
    page = merged[:limit]
    after = Cursor(
        *(
            _next(
                getattr(position, source),
                found[source],
                [h for h in page if _source(h["kind"]) == source],
                limit,
                _KEYS.get(source, "id"),
            )
            for source in _SOURCES
        )
    )
    exhausted = all(v == 0 for v in after.values())
    return Results(page, None if exhausted else after.encode())


def _source(kind: str) -> str:
    return {
        "forum": "posts",
        "bulletin": "posts",
        "page": "pages",
        "document": "documents",
        "material": "materials",
    }.get(kind, kind)


def _next(
    before: int | None,
    fetched: list[dict[str, Any]],
    taken: list[dict[str, Any]],
    limit: int,
    key: str,
) -> int | None:
    """Exhausted (0) when everything fetched was shown and no more was there to fetch."""
    if len(fetched) <= limit and len(taken) == len(fetched):
        return 0
    return int(taken[-1][key]) if taken else before


async def _readable_channels(tx: AsyncSession, member: Member, before: int | None) -> list[int]:
    """Read before the time-bound statements: it is not part of what a query may cost."""
    if before == 0:
        return []
    return [c.id for c in await channels.readable(tx, member) if c.id is not None]


async def _chat_hits(
    bound: TimeBound,
    readable: list[int],
    postgres: bool,
    params: dict[str, Any],
    before: int | None,
) -> list[dict[str, Any]]:
    if before == 0 or not readable:
        return []
    sql = _CHAT_POSTGRES if postgres else _CHAT_SQLITE
    rows = await _run(bound, sql, {**params, "channels": readable}, before)
    return [
        {
            "kind": "chat",
            "id": row[0],
            "created_at": _when(row[1]),
            "author_id": row[2],
            "seq": row[3],
            "channel": row[4],
            "snippet": snippet_html(row[5]),
        }
        for row in rows
    ]


async def _post_hits(
    bound: TimeBound,
    member: Member,
    postgres: bool,
    params: dict[str, Any],
    before: int | None,
) -> list[dict[str, Any]]:
    boards = [
        board
        for board, action in (("forum", Action.forum_read), ("bulletin", Action.bulletin_read))
        if can(member, action)
    ]
    if before == 0 or not boards:
        return []
    sql = _POSTS_POSTGRES if postgres else _POSTS_SQLITE
    rows = await _run(
        bound, sql, {**params, "boards": boards, "project": member.project_id}, before
    )
    return [
        {
            "kind": row[3],
            "id": row[0],
            "created_at": _when(row[1]),
            "author_id": row[2],
            "thread_id": row[4],
            "thread_title": row[5],
            "snippet": snippet_html(row[6]),
        }
        for row in rows
    ]


async def _text_hits(
    bound: TimeBound,
    sql: str,
    hit: Callable[[Any, str], dict[str, Any]],
    seen: list[int],
    params: dict[str, Any],
    before: int | None,
) -> list[dict[str, Any]]:
    """Pages or documents, through the text index of their documents (`search/texts.py`)."""
    if before == 0 or not seen:
        return []
    rows = await _run(bound, sql, {**params, "docs": seen}, before)
    return [
        hit([row[0], _when(row[1]), *row[2:4], row[4], row[5]], snippet_html(row[4]))
        for row in rows
    ]


async def _member_hits(
    bound: TimeBound,
    source: Any,
    sql: tuple[str, str],
    member: Member,
    postgres: bool,
    params: dict[str, Any],
    before: int | None,
) -> list[dict[str, Any]]:
    """Hits of a source whose view depends on the member (``source.params``), materials and the
    journal: each row is its id, time, the source's own columns, then the snippet."""
    view = source.params(member)
    if before == 0 or view is None:
        return []
    rows = await _run(bound, sql[0] if postgres else sql[1], {**params, **view}, before)
    return [source.hit([row[0], _when(row[1]), *row[2:-1]], snippet_html(row[-1])) for row in rows]


async def _run(bound: TimeBound, sql: str, params: dict[str, Any], before: int | None) -> list[Any]:
    """List parameters (``channels``, ``boards``, ``docs``) expand to ``IN (…)``; ``before``
    bounds ids."""
    lists: list[BindParameter[Any]] = [
        bindparam(name, expanding=True) for name in ("channels", "boards", "docs") if name in params
    ]
    return await bound.execute(
        text(sql).bindparams(*lists), {**params, "before": before or _NO_BOUND}
    )


def _when(value: datetime | str) -> datetime:
    """Raw SQL bypasses the ORM's type: SQLite hands back the stored text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
