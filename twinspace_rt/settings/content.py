"""Chat, shared documents, search and the showcase: sizes, rates, resume and compaction"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class ContentSettings(BaseSettings):
    """Chat, shared documents, search and the showcase: sizes, rates, resume and compaction."""

    chat_text_max: int = Field(4000, ge=1, description="Longest chat message, in characters.")
    chat_rate_per_second: float = Field(
        5, gt=0, description="Sustained hub requests per second per connection."
    )
    chat_rate_burst: int = Field(20, ge=1, description="Hub requests a connection may burst.")
    chat_edit_window_seconds: int = Field(
        900, ge=0, description="How long authors may edit or delete their own messages."
    )
    chat_resume_max: int = Field(
        5000,
        ge=1,
        description="Most messages replayed per channel on resume; beyond: `recovered: false`.",
    )
    docs_message_max_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest y-websocket message a client may send (4413 beyond); it bounds "
        "one Yjs update, so it is also the largest offline change merged in one go.",
    )
    docs_awareness_max_bytes: int = Field(
        16384, ge=256, description="Largest awareness update (cursor, name, colour); 4413 beyond."
    )
    docs_rate_per_second: float = Field(
        100, gt=0, description="Sustained y-websocket messages per second per socket."
    )
    docs_rate_burst: int = Field(
        1000, ge=1, description="Messages a Yjs socket may burst above that before 4429."
    )
    docs_compact_updates: int = Field(
        500, ge=1, description="Compact a document once its update log holds this many rows..."
    )
    docs_compact_bytes: int = Field(1024 * 1024, ge=1, description="...or this many bytes.")
    docs_unload_grace_seconds: float = Field(
        30, ge=0, description="A document with no sockets stays loaded this long."
    )
    docs_version_after_seconds: float = Field(
        300, gt=0, description="An automatic version is saved once edits pause for this long."
    )
    search_terms_max: int = Field(
        8, ge=1, le=32, description="Most words in one search; the rest of the query is ignored."
    )
    search_term_max_chars: int = Field(
        64, ge=3, le=200, description="Longest word in a search (422 `validation_failed` beyond)."
    )
    search_prefix_min_chars: int = Field(
        3,
        ge=1,
        le=32,
        description="Words at least this long also find longer words (prefix match); shorter "
        "ones match whole words only, since a one-letter prefix matches nearly every word.",
    )
    search_timeout_ms: int = Field(
        3000,
        ge=1,
        description="Time one search may take in the database (PostgreSQL `statement_timeout`, "
        "an SQLite progress handler) before it answers 422 `search_timeout`.",
    )
    showcase_cache_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        description="How long browsers and proxies may keep a public showcase page "
        "(`Cache-Control: max-age`): also how long an unpublished one may still be seen there.",
    )
