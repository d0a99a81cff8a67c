"""Turning what a member types into a query no full-text engine can misread, and engine
snippets into safe HTML.

Only runs of letters and digits survive as terms; quotes, operators (``AND``, ``NEAR``, ``-``,
``*``, ``:``, ``&``, ``|``, ``!``, parentheses) are separators. Each term is then quoted by us and
matched as a prefix, so ``fium`` finds *fiume* and *fiumi*, ``köprü`` finds *Köprüsü'nü*:
the poor man's stemming that works alike in every language of a room.
"""

from __future__ import annotations

import html
import re

from twinspace_rt.errors import AppError, ErrorCode

QUERY_MAX = 200
TERMS_MAX = 8
_TERM = re.compile(r"[^\W_]+")
# Engines wrap matches in these; they cannot come from a sanitised query, and any stray one
# in stored text is dropped when the snippet is escaped.
MARK_START = "\x01"
MARK_END = "\x02"
_MARKED = re.compile(f"{MARK_START}([^{MARK_START}{MARK_END}]*){MARK_END}")


def terms(query: str) -> list[str]:
    """The words of ``query`` (lower-cased, at most 8); a query without words is refused."""
    if len(query) > QUERY_MAX:
        raise AppError(
            ErrorCode.validation_failed, f"A search is limited to {QUERY_MAX} characters."
        )
    found = [t.lower() for t in _TERM.findall(query)][:TERMS_MAX]
    if not found:
        raise AppError(ErrorCode.validation_failed, "Search for at least one word.")
    return found


def fts5_query(words: list[str]) -> str:
    """SQLite FTS5: every word quoted, as a prefix, all required."""
    return " ".join(f'"{w}"*' for w in words)


def tsquery(words: list[str]) -> str:
    """PostgreSQL ``to_tsquery('simple', …)``: every word as a prefix, all required."""
    return " & ".join(f"{w}:*" for w in words)


def snippet_html(raw: str) -> str:
    """Escapes everything, then turns the engine's match markers into ``<mark>``."""
    escaped = html.escape(raw, quote=True)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return marked.replace(MARK_START, "").replace(MARK_END, "")
