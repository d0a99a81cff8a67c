"""The light markup of forum and bulletin posts: a small Markdown subset rendered to safe HTML.

The source is stored as written. A real Markdown parser (markdown-it-py, with raw HTML
disabled) reads it, so a link's destination is parsed as one piece: ``*`` or ``_`` in a URL
never turn into emphasis inside an ``href``, as they did with the regular expressions this
replaced. Its HTML then passes an allow-list sanitiser (nh3) as a second line of defence, so
even a parser bug cannot hand a browser a tag, attribute or link scheme outside this subset:

- a blank line separates paragraphs (``<p>``); a single newline is a line break (``<br>``);
- ``**bold**`` → ``<strong>``, ``*italic*`` or ``_italic_`` → ``<em>``, `` `code` `` → ``<code>``;
- ``[text](https://…)`` → a link (``http``, ``https`` and ``mailto`` only, ``rel="nofollow"``);
- lines starting with ``- `` form a list (``<ul><li>``); lines starting with ``>`` form a
  quote (``<blockquote>``);
- a backslash before a marker keeps the marker as text.

Everything else (headings, numbered lists, code blocks, tables, entities, HTML) stays
text, so what a member types means what it meant before the parser changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock, blockquote, list_block
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = {"p", "br", "strong", "em", "code", "a", "ul", "li", "blockquote"}
# Quotes and lists open at most this many levels deep (a list counts two: list and item);
# deeper markers stay text. markdown-it drops what lies past its own ``maxNesting``, so the
# limit here is below it: nothing a member wrote is lost, and a hostile post's cost is bounded.
MAX_DEPTH = 12
MAX_NESTING = 20


def _quote(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    return state.level < MAX_DEPTH and blockquote(state, start_line, end_line, silent)


def _dash_list(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Only ``- `` starts a list: ``* ``, ``+ `` and ``1.`` stay text, as they always were."""
    first = state.bMarks[start_line] + state.tShift[start_line]
    if state.src[first : first + 2] != "- " or state.level >= MAX_DEPTH:
        return False
    return list_block(state, start_line, end_line, silent)


def _compact(state: StateCore) -> None:
    """A quote holding one paragraph renders as its text alone (``<blockquote>a<br>b``), like a
    tight list item; and no block gets the newline markdown-it writes after it."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type == "blockquote_open":
            children = _direct_children(tokens, index)
            if len(children) == 1 and tokens[children[0]].type == "paragraph_open":
                tokens[children[0]].hidden = True
                tokens[_closing(tokens, children[0])].hidden = True
    for token in tokens:
        token.block = False


def _direct_children(tokens: list[Token], open_index: int) -> list[int]:
    level = tokens[open_index].level + 1
    return [
        index
        for index in range(open_index + 1, _closing(tokens, open_index))
        if tokens[index].level == level and tokens[index].nesting >= 0
    ]


def _closing(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _line_break(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "<br>"


class _LightMarkdown(MarkdownIt):
    """Link destinations are kept as written (the sanitiser escapes them); only the allowed
    schemes make a link, anything else leaves the whole ``[text](…)`` as text."""

    def normalizeLink(self, url: str) -> str:
        return url

    def validateLink(self, url: str) -> bool:
        scheme, colon, _ = url.partition(":")
        return bool(colon) and scheme.lower() in LINK_SCHEMES


def _parser() -> MarkdownIt:
    md = _LightMarkdown(
        "zero", {"html": False, "breaks": True, "linkify": False, "typographer": False}
    )
    md.options["maxNesting"] = MAX_NESTING
    md.enable(
        ["paragraph", "blockquote", "list", "newline", "backticks", "emphasis", "link", "escape"]
    )
    md.block.ruler.at("blockquote", _quote, {"alt": ["paragraph", "blockquote", "list"]})
    md.block.ruler.at("list", _dash_list, {"alt": ["paragraph", "blockquote"]})
    md.core.ruler.push("compact", _compact)
    md.add_render_rule("softbreak", _line_break)
    md.add_render_rule("hardbreak", _line_break)
    return md


_MD = _parser()
_CLEANER = nh3.Cleaner(
    tags=TAGS,
    # ``"*"`` replaces the sanitiser's default attributes for every tag (``title``, ``lang``).
    attributes={"a": {"href"}, "*": set()},
    url_schemes=set(LINK_SCHEMES),
    link_rel="nofollow noopener",
    strip_comments=True,
)


def render(source: str) -> str:
    """Sanitised HTML for ``source``; the same input always gives the same output.

    The apostrophe is written as ``&#x27;`` (the sanitiser's serialiser leaves it bare), so the
    output is also safe inside a single-quoted attribute and stays byte for byte what the
    regular-expression renderer produced for plain text.
    """
    return _CLEANER.clean(_MD.render(source)).replace("'", "&#x27;")
