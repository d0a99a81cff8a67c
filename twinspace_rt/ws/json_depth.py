"""How deep a client's JSON nests, found before any parser recurses into it.

Python's `json` and Yrs both recurse per level, and a deep enough text ends in
``RecursionError`` or a Rust panic. Hub frames (`hub/protocol.py`) and the JSON that Yjs updates
carry as text (`documents/update_format.py`) are both checked here first: one scanner, one
meaning of "depth".
"""

from __future__ import annotations

import re

_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


def nests_deeper(text: str, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit``. Linear in the text; brackets
    inside strings do not count; text with too few brackets is not scanned at all."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIAL.finditer(text):
        char = match.group()
        if in_string:
            if match.start() == escaped_at:
                continue
            if char == "\\":
                escaped_at = match.start() + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
