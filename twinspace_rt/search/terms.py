"""Turning what a member types into a query no full-text engine can misread, and engine
snippets into safe HTML.

Only runs of letters and digits survive as terms; quotes, operators (``AND``, ``NEAR``, ``-``,
``*``, ``:``, ``&``, ``|``, ``!``, parentheses) are separators. Each term is then quoted by us and
matched as a prefix, so ``fium`` finds *fiume* and *fiumi*, ``köprü`` finds *Köprüsü'nü*:
the poor man's stemming that works alike in every language of a room. Words shorter than
``search_prefix_min_chars`` match whole words only, and the number and length of words are
capped (settings), so that what one query costs stays bounded.
"""

from __future__ import annotations

import html
import re

from twinspace_rt.errors import AppError, ErrorCode

QUERY_MAX = 200
_TERM = re.compile(r"[^\W_]+")
# Engines wrap matches in these; they cannot come from a sanitised query, and any stray one
# in stored text is dropped when the snippet is escaped.
MARK_START = "\x01"
MARK_END = "\x02"
_MARKED = re.compile(f"{MARK_START}([^{MARK_START}{MARK_END}]*){MARK_END}")


def terms(query: str, max_terms: int, max_chars: int) -> list[str]:
    """The distinct words of ``query``, lower-cased, at most ``max_terms``; a query without
    words, or with a word longer than ``max_chars``, is refused."""
    if len(query) > QUERY_MAX:
        raise AppError(
            ErrorCode.validation_failed, f"A search is limited to {QUERY_MAX} characters."
        )
    found = list(dict.fromkeys(t.lower() for t in _TERM.findall(query)))[:max_terms]
    if not found:
        raise AppError(ErrorCode.validation_failed, "Search for at least one word.")
    if any(len(t) > max_chars for t in found):
        raise AppError(
            ErrorCode.validation_failed, f"Search for words of at most {max_chars} characters."
        )
    return found


def fts5_query(words: list[str], prefix_min: int) -> str:
    """SQLite FTS5: every word quoted and required; words of ``prefix_min`` characters or more
    also as a prefix (a one-letter prefix would match nearly every word of every post)."""
    return " ".join(f'"{w}"*' if len(w) >= prefix_min else f'"{w}"' for w in words)


def tsquery(words: list[str], prefix_min: int) -> str:
    """PostgreSQL ``to_tsquery('simple', …)``: the same rules as ``fts5_query``."""
    return " & ".join(f"{w}:*" if len(w) >= prefix_min else w for w in words)


def snippet_html(raw: str) -> str:
    """The part of a marked text around its first match, escaped, with the engine's match
    markers turned into ``<mark>``."""
    escaped = html.escape(_window(raw), quote=True)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return marked.replace(MARK_START, "").replace(MARK_END, "")


SNIPPET_BEFORE = 80
SNIPPET_AFTER = 200


def _window(raw: str) -> str:
    """About ``SNIPPET_BEFORE`` characters before the first match and ``SNIPPET_AFTER`` from
    it, cut at spaces. SQLite marks the whole text (``highlight``: its ``snippet`` costs time
    quadratic in the matches of a post, a minute for a few long posts of one-letter words)."""
    first = max(raw.find(MARK_START), 0)
    start = max(0, first - SNIPPET_BEFORE)
    end = min(len(raw), first + SNIPPET_AFTER)
    if start > 0:
        space = raw.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    if end < len(raw):
        space = raw.rfind(" ", first, end)
        end = space if space > first else end
    return ("…" if start > 0 else "") + raw[start:end] + ("…" if end < len(raw) else "")
