"""Comma-separated lists in one environment variable."""

from __future__ import annotations


def split_list(value: object) -> object:
    """``"a, b,,c"`` → ``["a", "b", "c"]``; anything else (a list from code) as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
