"""A document's content as text, Markdown, HTML or JSON, read from its root shared type.

Every document has one root named ``content``: a ``Y.Text`` for kind ``text`` (CodeMirror,
Quill: formatting attributes become Markdown/HTML marks) and a ``Y.XmlFragment`` for kind
``richtext`` (ProseMirror, TipTap, BlockNote: elements are ProseMirror node names).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, cast

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

ROOT = "content"


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

Delta = list[tuple[str, dict[str, Any] | None]]
Node = XmlElement | XmlText

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
_MARKS_HTML = [("bold", "strong"), ("italic", "em"), ("strike", "s"), ("code", "code")]
_MARKS_MD = [("code", "`"), ("bold", "**"), ("italic", "_"), ("strike", "~~")]


def root(doc: Doc[Any], kind: str) -> Text | XmlFragment:
    top: Text | XmlFragment
    if kind == DocKind.text:
        top = doc.get(ROOT, type=Text)
    else:
        top = doc.get(ROOT, type=XmlFragment)
    return top


def _children(parent: XmlElement | XmlFragment) -> list[Node]:
    """Child nodes, with any nested fragment's children in its place."""
    found: list[Node] = []
    for child in parent.children:
        found += _children(child) if isinstance(child, XmlFragment) else [child]
    return found


def render(doc: Doc[Any], kind: str, fmt: Format) -> str:
    top = root(doc, kind)
    if isinstance(top, Text):
        delta: Delta = top.diff()
        if fmt is Format.text:
            return str(top)
        if fmt is Format.markdown:
            return _delta_markdown(delta)
        if fmt is Format.html:
            lines = "".join(_delta_html(delta)).split("\n")
            return "".join(f"<p>{line}</p>" for line in lines)
        return json.dumps({"kind": kind, "delta": _delta_json(delta)})
    nodes = _children(top)
    if fmt is Format.text:
        return "\n".join(_plain(node) for node in nodes)
    if fmt is Format.markdown:
        return "\n\n".join(_markdown(node) for node in nodes).strip() + "\n"
    if fmt is Format.html:
        return "".join(_html(node) for node in nodes)
    return json.dumps({"kind": kind, "content": [_json(node) for node in nodes]})


def _plain(node: Node) -> str:
    if isinstance(node, XmlText):
        return str("".join(text for text, _ in node.diff()))
    if (node.tag or "") in _VOID_TAGS:
        return "\n" if node.tag in ("hardBreak", "hard_break") else ""
    children = _children(node)
    separator = "" if all(isinstance(c, XmlText) for c in children) else "\n"
    return separator.join(_plain(child) for child in children)


def _html(node: Node) -> str:
    if isinstance(node, XmlText):
        return "".join(_delta_html(node.diff()))
    tag = node.tag or "div"
    if tag in _VOID_TAGS:
        return f"<{_VOID_TAGS[tag]}>"
    if tag == "heading":
        level = str(node.attributes.get("level") or "1")
        tag_name = f"h{level}" if level in "123456" and len(level) == 1 else "h1"
    else:
        tag_name = _HTML_TAGS.get(tag, "div")
    inner = "".join(_html(child) for child in _children(node))
    if tag_name == "pre":
        inner = f"<code>{inner}</code>"
    return f"<{tag_name}>{inner}</{tag_name}>"


def _markdown(node: Node, prefix: str = "") -> str:
    if isinstance(node, XmlText):
        return _delta_markdown(node.diff())
    tag = node.tag or ""
    children = _children(node)
    if tag in ("horizontalRule", "horizontal_rule"):
        return "---"
    if tag in ("hardBreak", "hard_break"):
        return "  \n"
    if tag == "heading":
        level = str(node.attributes.get("level") or "1")
        depth = int(level) if level.isdigit() and 1 <= int(level) <= 6 else 1
        return "#" * depth + " " + "".join(_markdown(c) for c in children)
    if tag in ("bulletList", "bullet_list", "orderedList", "ordered_list"):
        ordered = tag.startswith("ordered")
        items = []
        for number, item in enumerate(children, start=1):
            bullet = f"{number}. " if ordered else "- "
            parts = _children(item) if isinstance(item, XmlElement) else [item]
            body = "\n".join(_markdown(c) for c in parts)
            items.append(bullet + body.replace("\n", "\n   "))
        return "\n".join(items)
    if tag == "blockquote":
        inner = "\n\n".join(_markdown(c) for c in children)
        return "\n".join("> " + line for line in inner.split("\n"))
    if tag in ("codeBlock", "code_block"):
        return "```\n" + "".join(_plain(c) for c in children) + "\n```"
    return "".join(_markdown(c) for c in children)


def _json(node: Node) -> dict[str, Any]:
    if isinstance(node, XmlText):
        return {"type": "text", "delta": _delta_json(node.diff())}
    value: dict[str, Any] = {"type": node.tag}
    attributes = dict(cast(Any, node.attributes))  # iterates (name, value) pairs
    if attributes:
        value["attrs"] = attributes
    value["content"] = [_json(child) for child in _children(node)]
    return value


def _delta_json(delta: Delta) -> list[dict[str, Any]]:
    return [{"insert": text, **({"attributes": attrs} if attrs else {})} for text, attrs in delta]


def _delta_html(delta: Delta) -> list[str]:
    def mark(line: str, attrs: dict[str, Any]) -> str:
        piece = html.escape(line)
        for name, tag in _MARKS_HTML:
            if attrs.get(name):
                piece = f"<{tag}>{piece}</{tag}>"
        link = attrs.get("link")
        return f'<a href="{html.escape(link)}">{piece}</a>' if isinstance(link, str) else piece

    return _marked(delta, mark, html.escape)


def _delta_markdown(delta: Delta) -> str:
    def mark(line: str, attrs: dict[str, Any]) -> str:
        piece = line
        for name, symbol in _MARKS_MD:
            if attrs.get(name) and line.strip():
                piece = f"{symbol}{piece}{symbol}"
        link = attrs.get("link")
        return f"[{piece}]({link})" if isinstance(link, str) else piece

    return "".join(_marked(delta, mark, str))


def _marked(
    delta: Delta, mark: Callable[[str, dict[str, Any]], str], plain: Callable[[str], str]
) -> list[str]:
    """Marks are closed at each newline, so that lines can become paragraphs."""
    out = []
    for text, attrs in delta:
        lines = str(text).split("\n")
        out.append(
            "\n".join(mark(line, attrs) if attrs and line else plain(line) for line in lines)
        )
    return out
