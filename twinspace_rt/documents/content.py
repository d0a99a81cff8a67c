"""A document's content as text, Markdown, HTML or JSON, read from its root shared type.

Every document has one root named ``content``: a ``Y.Text`` for kind ``text`` (CodeMirror,
Quill: formatting attributes become Markdown/HTML marks) and a ``Y.XmlFragment`` for kind
``richtext`` (ProseMirror, TipTap, BlockNote: elements are ProseMirror node names).
"""

from __future__ import annotations

import html
import json
from enum import StrEnum
from typing import Any

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
_VOID_TAGS = {"horizontalRule": "hr", "horizontal_rule": "hr", "hardBreak": "br", "hard_break": "br"}
_MARKS_HTML = [("bold", "strong"), ("italic", "em"), ("strike", "s"), ("code", "code")]
_MARKS_MD = [("code", "`"), ("bold", "**"), ("italic", "_"), ("strike", "~~")]


def root(doc: Doc, kind: str) -> Text | XmlFragment:
    if kind == DocKind.text:
        return doc.get(ROOT, type=Text)
    return doc.get(ROOT, type=XmlFragment)


def render(doc: Doc, kind: str, fmt: Format) -> str:
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
    nodes = list(top.children)
    if fmt is Format.text:
        return "\n".join(_plain(node) for node in nodes)
    if fmt is Format.markdown:
        return "\n\n".join(_markdown(node) for node in nodes).strip() + "\n"
    if fmt is Format.html:
        return "".join(_html(node) for node in nodes)
    return json.dumps({"kind": kind, "content": [_json(node) for node in nodes]})


def _plain(node: XmlElement | XmlText) -> str:
    if isinstance(node, XmlText):
        return str("".join(text for text, _ in node.diff()))
    if node.tag in _VOID_TAGS:
        return "\n" if node.tag in ("hardBreak", "hard_break") else ""
    children = list(node.children)
    separator = "" if all(isinstance(c, XmlText) for c in children) else "\n"
    return separator.join(_plain(child) for child in children)


def _html(node: XmlElement | XmlText) -> str:
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
    inner = "".join(_html(child) for child in node.children)
    if tag_name == "pre":
        inner = f"<code>{inner}</code>"
    return f"<{tag_name}>{inner}</{tag_name}>"


def _markdown(node: XmlElement | XmlText, prefix: str = "") -> str:
    if isinstance(node, XmlText):
        return _delta_markdown(node.diff())
    tag = node.tag
    children = list(node.children)
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
            body = "\n".join(_markdown(c) for c in getattr(item, "children", [item]))
            items.append(bullet + body.replace("\n", "\n   "))
        return "\n".join(items)
    if tag == "blockquote":
        inner = "\n\n".join(_markdown(c) for c in children)
        return "\n".join("> " + line for line in inner.split("\n"))
    if tag in ("codeBlock", "code_block"):
        return "```\n" + "".join(_plain(c) for c in children) + "\n```"
    return "".join(_markdown(c) for c in children)


def _json(node: XmlElement | XmlText) -> dict[str, Any]:
    if isinstance(node, XmlText):
        return {"type": "text", "delta": _delta_json(node.diff())}
    value: dict[str, Any] = {"type": node.tag}
    attributes = dict(node.attributes)
    if attributes:
        value["attrs"] = attributes
    value["content"] = [_json(child) for child in node.children]
    return value


def _delta_json(delta: Delta) -> list[dict[str, Any]]:
    return [
        {"insert": text, **({"attributes": attrs} if attrs else {})} for text, attrs in delta
    ]


def _delta_html(delta: Delta) -> list[str]:
    """Marks are closed at each newline, so that lines can become paragraphs."""
    out = []
    for text, attrs in delta:
        pieces = []
        for line in str(text).split("\n"):
            piece = html.escape(line)
            for mark, tag in _MARKS_HTML:
                if attrs and attrs.get(mark) and line:
                    piece = f"<{tag}>{piece}</{tag}>"
            link = (attrs or {}).get("link")
            if isinstance(link, str) and line:
                piece = f'<a href="{html.escape(link)}">{piece}</a>'
            pieces.append(piece)
        out.append("\n".join(pieces))
    return out


def _delta_markdown(delta: Delta) -> str:
    out = []
    for text, attrs in delta:
        pieces = []
        for line in str(text).split("\n"):
            piece = line
            for mark, symbol in _MARKS_MD:
                if attrs and attrs.get(mark) and line.strip():
                    piece = f"{symbol}{piece}{symbol}"
            link = (attrs or {}).get("link")
            if isinstance(link, str) and line:
                piece = f"[{piece}]({link})"
            pieces.append(piece)
        out.append("\n".join(pieces))
    return "".join(out)
