"""A document's content as text, Markdown, HTML or JSON, read from its root shared type.

Every document has one root named ``content``: a ``Y.Text`` for kind ``text`` (CodeMirror,
Quill: formatting attributes become Markdown/HTML marks) and a ``Y.XmlFragment`` for kind
``richtext`` (ProseMirror, TipTap, BlockNote: elements are ProseMirror node names).

Members write what they like into it, so rendering never trusts its shape: the tree is first
read into plain `Node`s without recursion (3 000 nested elements overflowed Python's stack and
answered 500), every format is written from that list without recursion, and whatever is not
text or an element (an embed, a map, an element inside a ``Y.Text``) becomes a placeholder in
JSON and is skipped elsewhere. Markdown nests blocks only `MARKDOWN_DEPTH_MAX` deep; deeper
content is written as its plain text. Text in Markdown is escaped, so raw HTML stays text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pycrdt import Doc, Text, XmlFragment

from twinspace_rt.documents.guard import BadUpdate, refusing
from twinspace_rt.documents.tree import Delta, Node, delta, read_tree, walk

ROOT = "content"
MARKDOWN_DEPTH_MAX = 32
# JSON nests two levels per element; below this, an element's content is its plain text, so
# that every JSON parser (Python's stops near 1 000 levels) reads the answer.
JSON_DEPTH_MAX = 128
# The element a feature's rich text uses to point at another object (a page's embeds: a
# ``kind`` and a ``ref``). The documents layer does not know what it points at: HTML shows a
# neutral placeholder unless the caller passes an `EmbedHtml` that resolves it.
EMBED = "embed"

EmbedHtml = Callable[[dict[str, Any]], str]


class DocKind(StrEnum):
    text = "text"
    richtext = "richtext"


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"
    update = "update"


MEDIA_TYPES = {
    Format.text: "text/plain; charset=utf-8",
    Format.markdown: "text/markdown; charset=utf-8",
    Format.html: "text/html; charset=utf-8",
    Format.json: "application/json",
    Format.update: "application/octet-stream",
}

# ProseMirror node names (TipTap's camelCase and prosemirror-schema-basic's snake_case).
_HTML_TAGS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bulletList": "ul",
    "bullet_list": "ul",
    "orderedList": "ol",
    "ordered_list": "ol",
    "listItem": "li",
    "list_item": "li",
    "codeBlock": "pre",
    "code_block": "pre",
}
_VOID_TAGS = {
    "horizontalRule": "hr",
    "horizontal_rule": "hr",
    "hardBreak": "br",
    "hard_break": "br",
}
_LISTS = ("bulletList", "bullet_list", "orderedList", "ordered_list")
_CODE_BLOCKS = ("codeBlock", "code_block")
_MARKS_HTML = [("bold", "strong"), ("italic", "em"), ("strike", "s"), ("code", "code")]
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_MARKS_MD = [("bold", "**"), ("italic", "_"), ("strike", "~~")]
# Markdown's active characters: escaped in text so that raw HTML, links and emphasis that a
# member typed stay the characters they typed.
_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>&~|!#])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])", re.MULTILINE)
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\n": "", "\r": ""}


def root(doc: Doc[Any], kind: str) -> Text | XmlFragment:
    top: Text | XmlFragment
    if kind == DocKind.text:
        top = doc.get(ROOT, type=Text)
    else:
        top = doc.get(ROOT, type=XmlFragment)
    return top


def render(doc: Doc[Any], kind: str, fmt: Format, embed: EmbedHtml | None = None) -> str:
    """``embed`` writes an embed element's HTML from its attributes (trusted output: it must
    escape what it writes); without it, an embed is an escaped placeholder."""
    try:
        with refusing("the document"):
            top = root(doc, kind)
            if isinstance(top, Text):
                return _render_text(kind, delta(top), fmt)
            nodes = read_tree(top)
    except BadUpdate:
        nodes = [Node(tag="")]  # a root Yrs cannot read as this kind: shown empty
    if fmt is Format.text:
        return _emit_plain(nodes, 0)
    if fmt is Format.markdown:
        return _markdown(nodes).strip() + "\n"
    if fmt is Format.html:
        return _emit_html(nodes, embed or placeholder)
    return '{"kind": ' + json.dumps(kind) + ', "content": ' + _emit_json(nodes, 0) + "}"


def _render_text(kind: str, delta: Delta, fmt: Format) -> str:
    if fmt is Format.text:
        return "".join(text for text, _ in delta if isinstance(text, str))
    if fmt is Format.markdown:
        return _delta_markdown(delta)
    if fmt is Format.html:
        lines = "".join(_delta_html(delta)).split("\n")
        return "".join(f"<p>{line}</p>" for line in lines)
    return json.dumps({"kind": kind, "delta": _delta_json(delta)})


def _text_of(node: Node) -> str:
    return "".join(text for text, _ in node.delta or [] if isinstance(text, str))


def _emit_plain(nodes: list[Node], start: int) -> str:
    def enter(node: Node) -> str:
        if node.is_text:
            return _text_of(node)
        return "\n" if node.tag in ("hardBreak", "hard_break") else ""

    def separator(node: Node) -> str:
        return "\n" if node.tag == "" or not node.only_text else ""

    return walk(nodes, start, enter, lambda _: "", separator, lambda n: n.tag not in _VOID_TAGS)


def _html_tag(node: Node) -> str:
    if node.tag == "heading":
        level = str(node.attrs.get("level") or "1")
        return f"h{level}" if len(level) == 1 and level in "123456" else "h1"
    return _HTML_TAGS.get(node.tag or "", "div")


def placeholder(attrs: dict[str, Any]) -> str:
    kind = html.escape(str(attrs.get("kind") or ""))
    return f'<p class="embed-unavailable" data-embed="{kind}">[{kind or "embed"}]</p>'


def embeds(doc: Doc[Any]) -> list[dict[str, Any]]:
    """The attributes of every embed element of a rich-text document, in order."""
    try:
        with refusing("the document"):
            nodes = read_tree(doc.get(ROOT, type=XmlFragment))
    except BadUpdate:
        return []
    return [node.attrs for node in nodes if node.tag == EMBED]


def _emit_html(nodes: list[Node], embed: EmbedHtml) -> str:
    def enter(node: Node) -> str:
        if node.is_text:
            return "".join(_delta_html(node.delta or []))
        if node.tag == EMBED:
            return embed(node.attrs)
        if node.tag in _VOID_TAGS:
            return f"<{_VOID_TAGS[node.tag]}>"
        if node.tag is None or node is nodes[0]:
            return ""  # an embed, or the root
        tag = _html_tag(node)
        return "<pre><code>" if tag == "pre" else f"<{tag}>"

    def leave(node: Node) -> str:
        if node.is_text or node.tag in (None, EMBED) or node.tag in _VOID_TAGS or node is nodes[0]:
            return ""
        tag = _html_tag(node)
        return "</code></pre>" if tag == "pre" else f"</{tag}>"

    def descend(node: Node) -> bool:
        return node.tag not in _VOID_TAGS and node.tag != EMBED

    return walk(nodes, 0, enter, leave, lambda _: "", descend)


def _emit_json(nodes: list[Node], start: int) -> str:
    def enter(node: Node) -> str:
        if node.is_text:
            return json.dumps({"type": "text", "delta": _delta_json(node.delta or [])})
        if node.tag is None:
            return json.dumps({"type": "embed", "value": node.embed})
        if node is nodes[0]:
            return "["
        head = '{"type": ' + json.dumps(node.tag)
        if node.attrs:
            head += ', "attrs": ' + json.dumps(node.attrs)
        head += ', "content": ['
        if node.depth >= JSON_DEPTH_MAX and node.children:
            text = _emit_plain(nodes, node.index)
            head += json.dumps({"type": "text", "delta": [{"insert": text}]})
        return head

    def leave(node: Node) -> str:
        if node.is_text or node.tag is None:
            return ""
        return "]" if node is nodes[0] else "]}"

    def descend(node: Node) -> bool:
        return node.depth < JSON_DEPTH_MAX

    return walk(nodes, start, enter, leave, lambda _: ", ", descend)


def _markdown(nodes: list[Node]) -> str:
    """Bottom-up (the list backwards): each node's Markdown from its children's. Nodes at
    `MARKDOWN_DEPTH_MAX` are written as their escaped plain text, and nothing below them."""
    md: dict[int, str] = {}
    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if node.depth > MARKDOWN_DEPTH_MAX:
            continue
        if node.depth == MARKDOWN_DEPTH_MAX and node.children:
            md[index] = _escape_md(_emit_plain(nodes, index))
        else:
            md[index] = _markdown_node(nodes, node, md)
        for child in node.children:
            md.pop(child, None)  # each string is used by its parent only
    return md[0]


def _markdown_node(nodes: list[Node], node: Node, md: dict[int, str]) -> str:
    if node.is_text:
        return _delta_markdown(node.delta or [])
    tag = node.tag
    inner = [md.get(child, "") for child in node.children]
    if tag is None:
        return ""
    if node.parent is not None and nodes[node.parent].tag in _LISTS:
        return "\n".join(inner)  # a list item: its blocks one per line, indented by the list
    if tag == "":
        return "\n\n".join(inner)
    if tag in ("horizontalRule", "horizontal_rule"):
        return "---"
    if tag in ("hardBreak", "hard_break"):
        return "  \n"
    if tag == "heading":
        level = str(node.attrs.get("level") or "1")
        depth = int(level) if level.isdigit() and 1 <= int(level) <= 6 else 1
        return "#" * depth + " " + "".join(inner)
    if tag in _LISTS:
        items = []
        for number, text in enumerate(inner, 1):
            bullet = f"{number}. " if tag.startswith("ordered") else "- "
            items.append(bullet + text.replace("\n", "\n   "))
        return "\n".join(items)
    if tag == "blockquote":
        return "\n".join("> " + line for line in "\n\n".join(inner).split("\n"))
    if tag in _CODE_BLOCKS:
        code = "".join(_text_of(nodes[c]) for c in node.children if nodes[c].is_text)
        fence = "`" * max(3, _longest_run(code, "`") + 1)
        return f"{fence}\n{code}\n{fence}"
    return "".join(inner)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(run) for run in runs), default=0)


def _escape_md(text: str) -> str:
    text = _MD_ACTIVE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_start(m.group(2)), text)


def _escape_start(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1] if marker[-1] in ".)" else "\\" + marker


def _code_span(text: str) -> str:
    fence = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _delta_json(delta: Delta) -> list[dict[str, Any]]:
    return [{"insert": text, **({"attributes": attrs} if attrs else {})} for text, attrs in delta]


def _delta_html(delta: Delta) -> list[str]:
    def mark(line: str, attrs: dict[str, Any]) -> str:
        piece = html.escape(line)
        for name, tag in _MARKS_HTML:
            if _has_mark(attrs, name):
                piece = f"<{tag}>{piece}</{tag}>"
        link = _link(attrs)
        return (
            f'<a href="{html.escape(link)}" rel="nofollow noopener">{piece}</a>' if link else piece
        )

    return _marked(delta, mark, html.escape)


def _delta_markdown(delta: Delta) -> str:
    def mark(line: str, attrs: dict[str, Any]) -> str:
        piece = _code_span(line) if _has_mark(attrs, "code") and line.strip() else _escape_md(line)
        for name, symbol in _MARKS_MD:
            if _has_mark(attrs, name) and line.strip():
                piece = f"{symbol}{piece}{symbol}"
        link = _link(attrs)
        if link:
            target = "".join(_URL_UNSAFE.get(char, char) for char in link)
            piece = f"[{piece}]({target})"
        return piece

    return "".join(_marked(delta, mark, _escape_md))


def _has_mark(attrs: dict[str, Any], name: str) -> bool:
    """Quill-style bindings store a mark as ``true``, y-prosemirror as its attributes (``{}``)."""
    return attrs.get(name) not in (None, False)


def _link(attrs: dict[str, Any]) -> str | None:
    """A link's target (a string, or y-prosemirror's ``{"href": …}``), if it is a safe scheme."""
    link = attrs.get("link")
    if isinstance(link, dict):
        link = link.get("href")
    if isinstance(link, str) and link.lower().startswith(_SAFE_SCHEMES):
        return link
    return None


def _marked(
    delta: Delta, mark: Callable[[str, dict[str, Any]], str], plain: Callable[[str], str]
) -> list[str]:
    """Marks are closed at each newline, so that lines can become paragraphs. Embeds are left
    out: only JSON shows them."""
    out = []
    for text, attrs in delta:
        if not isinstance(text, str):
            continue
        lines = text.split("\n")
        out.append(
            "\n".join(mark(line, attrs) if attrs and line else plain(line) for line in lines)
        )
    return out
