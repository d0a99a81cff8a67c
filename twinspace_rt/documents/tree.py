"""A document's XML tree read into plain nodes, and written out, without recursion.

Members decide the shape: 3 000 nested elements overflowed Python's stack when renderings
recursed (issue 12). `read_tree` reads any ``XmlFragment`` into a flat list of `Node`s in
pre-order (every node's children come after it), and `walk` writes a subtree from that list
with an explicit stack. Children that are neither text nor elements become embeds, and every
attribute or embed value is copied JSON-safe, at most `VALUE_DEPTH_MAX` deep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from pycrdt import Text, XmlElement, XmlFragment, XmlText

VALUE_DEPTH_MAX = 16  # attribute values in JSON; deeper parts become null

# A delta's inserts: text, or an embed (anything else), already made JSON-safe.
Delta = list[tuple[Any, dict[str, Any] | None]]


@dataclass(eq=False)
class Node:
    """One element (``tag``), text run (``delta``) or embed of the tree, read once."""

    tag: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    delta: Delta | None = None
    embed: Any = None
    depth: int = 0
    children: list[int] = field(default_factory=list)
    only_text: bool = True  # every child is a text run
    parent: int | None = None
    index: int = 0  # its place in the list

    @property
    def is_text(self) -> bool:
        return self.delta is not None


def read_tree(top: XmlFragment) -> list[Node]:
    """The tree in pre-order: every node's children come after it, so walking the list
    backwards meets each node after all of its descendants."""
    nodes = [Node(tag="")]
    pending: list[tuple[XmlFragment | XmlElement, int]] = [(top, 0)]
    while pending:
        parent, index = pending.pop()
        depth = nodes[index].depth + 1
        for child in _children(parent):
            nodes[index].children.append(len(nodes))
            nodes[index].only_text &= isinstance(child, XmlText)
            if isinstance(child, XmlText):
                nodes.append(Node(delta=delta(child), depth=depth, parent=index))
            elif isinstance(child, XmlElement):
                attrs = {str(k): safe(v) for k, v in dict(cast(Any, child.attributes)).items()}
                tag = str(child.tag or "div")
                nodes.append(Node(tag=tag, attrs=attrs, depth=depth, parent=index))
                pending.append((child, len(nodes) - 1))
            else:
                nodes.append(Node(embed=safe(child), depth=depth, parent=index))
    for number, node in enumerate(nodes):
        node.index = number
    return nodes


def _children(parent: XmlFragment | XmlElement) -> list[Any]:
    """Child nodes, with any nested fragment's children in its place (without recursion)."""
    found: list[Any] = []
    stack: list[Iterator[Any]] = [iter(list(parent.children))]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif isinstance(child, XmlFragment):
            stack.append(iter(list(child.children)))
        else:
            found.append(child)
    return found


def delta(text: Text | XmlText) -> Delta:
    """A text's runs: strings stay, anything else (an embed) becomes a JSON-safe value."""
    return [
        (insert if isinstance(insert, str) else safe(insert), safe(attrs) if attrs else None)
        for insert, attrs in text.diff()
    ]


def safe(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy, at most `VALUE_DEPTH_MAX` deep; a shared type becomes its name."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= VALUE_DEPTH_MAX:
        return None
    if isinstance(value, dict):
        return {str(k): safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe(v, depth + 1) for v in value]
    return {"type": type(value).__name__}


def walk(
    nodes: list[Node],
    start: int,
    enter: Callable[[Node], str],
    leave: Callable[[Node], str],
    separator: Callable[[Node], str],
    descend: Callable[[Node], bool],
) -> str:
    """Writes a subtree without recursion: ``enter`` before a node's children, ``separator``
    between two of them, ``leave`` after them."""
    out: list[str] = []
    stack: list[tuple[int, int]] = [(start, -1)]
    while stack:
        index, position = stack.pop()
        node = nodes[index]
        if position == -1:
            out.append(enter(node))
            position = 0
        if position < len(node.children) and descend(node):
            if position > 0:
                out.append(separator(node))
            stack.append((index, position + 1))
            stack.append((node.children[position], -1))
        else:
            out.append(leave(node))
    return "".join(out)
