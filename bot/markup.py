"""The HTML of a message as a tree (the renderer's output: well formed, the Matrix subset), and
the plain-text body made from it in the style of the renderer's bodies."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from commands.text import defuse_mentions
from matrix_ids import MATRIX_TO

_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|[^<]+|<")
VOID = {"br", "hr", "img"}
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "blockquote",
          "table", "thead", "tbody", "tr", "th", "td", "hr", "div", "details", "summary",
          "caption"}
CONTAINERS = {"ul", "ol", "blockquote", "div", "details"}  # cut between their children


@dataclass(eq=False)
class Node:
    """An element: its opening tag as written, and its children (elements, raw text)."""

    name: str
    open: str
    children: list[Node | str] = field(default_factory=list)
    index: int = 0  # among its parent's children of the same name (a list's items)

    @property
    def close(self) -> str:
        return "" if self.name in VOID else f"</{self.name}>"

    def html(self) -> str:
        return self.open + "".join(_html(child) for child in self.children) + self.close

    def elements(self, name: str) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.name == name]


def _html(item: Node | str) -> str:
    return item if isinstance(item, str) else item.html()


def parse(markup: str) -> Node:
    """The tree of ``markup`` under a nameless root; an unmatched closing tag is ignored, an
    unclosed element ends with its parent."""
    root = Node("", "")
    stack = [root]
    seen: dict[tuple[int, str], int] = {}  # how many children of a name each element has
    for match in _TOKEN.finditer(markup):
        closing, name = match.group(1), (match.group(2) or "").lower()
        if not name:
            stack[-1].children.append(match.group(0))
        elif closing:
            if any(node.name == name for node in stack[1:]):
                while stack.pop().name != name:
                    pass
        else:
            parent = stack[-1]
            index = seen[id(parent), name] = seen.get((id(parent), name), -1) + 1
            node = Node(name, match.group(0), index=index)
            parent.children.append(node)
            if name not in VOID and not match.group(0).endswith("/>"):
                stack.append(node)
    return root


_INLINE_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~",
                 "code": "`"}


def body_of(markup: str) -> str:
    """The plain-text body matching ``markup``: blocks separated by a blank line, items as
    ``- x`` / ``3. x``, rows as ``| a | b |``, emphasis and links as Markdown, pills as their
    text (as ``bot.render`` writes the body of a message)."""
    return defuse_mentions(_blocks(parse(markup).children).strip("\n"))


def _blocks(children: Sequence[Node | str]) -> str:
    out: list[str] = []
    inline: list[Node | str] = []

    def flush() -> None:
        text = _inline(inline).strip()
        if text:
            out.append(text)
        inline.clear()

    for child in children:
        if isinstance(child, Node) and child.name in BLOCKS:
            flush()
            text = _block(child)
            if text:
                out.append(text)
        else:
            inline.append(child)
    flush()
    return "\n\n".join(out)


def _block(node: Node) -> str:
    name = node.name
    if name in ("ul", "ol"):
        start = list_start(node)
        items = []
        for number, item in enumerate(node.elements("li"), start=start):
            marker = f"{number}. " if name == "ol" else "- "
            text = _blocks(item.children).replace("\n\n", "\n")
            items.append(marker + text.replace("\n", "\n" + " " * len(marker)))
        return "\n".join(items)
    if name == "table":
        rows = []
        for part in node.children:
            if isinstance(part, Node) and part.name in ("thead", "tbody"):
                for row in part.elements("tr"):
                    cells = [_inline(cell.children).strip() for cell in row.children
                             if isinstance(cell, Node) and cell.name in ("th", "td")]
                    rows.append("| " + " | ".join(cells) + " |")
                    if part.name == "thead":
                        rows.append("| " + " | ".join("---" for _ in cells) + " |")
        return "\n".join(rows)
    if name == "pre":
        return "```\n" + html.unescape(text_of(node)).rstrip("\n") + "\n```"
    if name == "blockquote":
        return "\n".join("> " + line if line else ">"
                         for line in _blocks(node.children).split("\n"))
    if name == "hr":
        return "---"
    if name[0] == "h" and name[1:].isdigit():
        return "#" * int(name[1:]) + " " + _inline(node.children).strip()
    return _blocks(node.children) if node.name in CONTAINERS or name == "li" else _inline(
        node.children).strip()


def _inline(children: Sequence[Node | str]) -> str:
    out = []
    for child in children:
        if isinstance(child, str):
            out.append(html.unescape(child))
        elif child.name == "br":
            out.append("\n")
        elif child.name == "a":
            out.append(_link(child))
        else:
            mark = _INLINE_MARKS.get(child.name, "")
            out.append(mark + _inline(child.children) + mark)
    return "".join(out)


_HREF = re.compile(r'href="([^"]*)"')


def _link(node: Node) -> str:
    text = _inline(node.children)
    found = _HREF.search(node.open)
    href = html.unescape(found.group(1)) if found else ""
    if not href or href.startswith(MATRIX_TO) or href == text:
        return text  # a pill shows as its text, like the renderer's bodies
    return f"[{text}]({href})"


def text_of(node: Node | str) -> str:
    if isinstance(node, str):
        return node
    return "".join(text_of(child) for child in node.children)


def list_start(node: Node) -> int:
    found = re.search(r'start="?(\d+)', node.open)
    return int(found.group(1)) if found else 1
