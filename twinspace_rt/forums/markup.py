"""The light markup of forum and bulletin posts: a small Markdown subset rendered to safe HTML.

The source is stored as written; this renderer escapes every character first and only then
turns the subset into tags, so no markup a member types can reach a browser as HTML:

- a blank line separates paragraphs (``<p>``); a single newline is a line break (``<br>``);
- ``**bold**`` → ``<strong>``, ``*italic*`` or ``_italic_`` → ``<em>``, `` `code` `` → ``<code>``;
- ``[text](https://…)`` → a link (``http``, ``https`` and ``mailto`` only, ``rel="nofollow"``);
- lines that all start with ``- `` form a list (``<ul><li>``); lines that all start with
  ``> `` form a quote (``<blockquote>``).
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?=\S)(.+?)(?<=\S)[*_](?![\w*])")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()<>]+)\)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def render(source: str) -> str:
    """Sanitised HTML for ``source``; the same input always gives the same output."""
    blocks = [b.strip("\n") for b in _BLANK_LINE.split(source.replace("\r\n", "\n"))]
    return "".join(_block(b) for b in blocks if b.strip())


def _block(block: str) -> str:
    lines = block.split("\n")
    if all(line.startswith("- ") for line in lines):
        return "<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>"
    if all(line.startswith(">") for line in lines):
        inner = "<br>".join(_inline(line[1:].lstrip()) for line in lines)
        return f"<blockquote>{inner}</blockquote>"
    return "<p>" + "<br>".join(_inline(line) for line in lines) + "</p>"


def _inline(text: str) -> str:
    """Code spans are cut out first, so nothing inside them is formatted."""
    parts = _CODE.split(text)
    out = []
    for index, part in enumerate(parts):
        escaped = html.escape(part, quote=True)
        if index % 2:
            out.append(f"<code>{escaped}</code>")
            continue
        escaped = _LINK.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', escaped)
        escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
        out.append(_ITALIC.sub(r"<em>\1</em>", escaped))
    return "".join(out)
