"""What one erasure is about, shared by the generic steps and the custom rewrites."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table

from twinspace_rt.settings import Settings

# Called after each batch: renews the job's lease and yields to live traffic.
Progress = Callable[[], Awaitable[None]]

PSEUDONYM = "Former member"


@dataclass(frozen=True)
class Erasure:
    """``placeholder`` is the pseudonymous account that takes over what stays; ``names`` are
    the member's username and display name, taken out of others' text (mentions, quotes)."""

    job_id: int
    subject: int
    placeholder: int
    project_id: int | None
    mode: str
    now: datetime
    batch: int
    names: tuple[str, ...]
    # Where the node's blobs live (materials' bytes and exports go with their member).
    settings: Settings

    def name_pattern(self) -> re.Pattern[str]:
        """Matches nothing when the names are unknown (never the empty pattern, which would
        match everywhere)."""
        words = sorted({n for n in self.names if n}, key=len, reverse=True)
        if not words:
            return re.compile(r"(?!x)x")
        return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def key(target: Table) -> Any:
    """The primary key column every batch is chosen by."""
    return next(iter(target.primary_key.columns))
