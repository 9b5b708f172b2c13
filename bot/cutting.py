"""Cutting a message's HTML into parts of a given size, each valid HTML: between blocks, a list's
items (a numbered list going on from its number), a table's rows (its header repeated), then
lines, words, characters, the elements open at a cut closed and opened again."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.markup import BLOCKS, CONTAINERS, VOID, Node, list_start

_START = re.compile(r'\sstart="?\d*"?')



@dataclass(frozen=True)
class Atom:
    """The smallest piece the cut keeps whole: ``markup`` inside the elements ``path`` (opened
    again in each part that holds some of their content); ``node`` when it is one element."""

    path: tuple[Node, ...]
    markup: str
    node: Node | None = None


class Weigher:
    """A piece's share of the event's size: its HTML (in a message that has some) and its
    text, as JSON strings (non-ASCII characters escaped in what is encrypted)."""

    def __init__(self, encrypted: bool, rich: bool = True) -> None:
        self.ascii = encrypted
        self.rich = rich

    def string(self, text: str) -> int:
        return len(json.dumps(text, ensure_ascii=self.ascii).encode()) - 2

    def markup(self, markup: str) -> int:
        text = self.string(html.unescape(re.sub(r"<[^>]*>", "", markup)))
        return self.string(markup) + text if self.rich else text


def atoms(children: Sequence[Node | str], path: tuple[Node, ...] = ()) -> Iterator[Atom]:
    """The pieces of a block sequence: containers are opened (a list gives its items, a table
    its body's rows, its header repeated), other blocks are whole."""
    for child in children:
        if isinstance(child, str):
            if child.strip():
                yield Atom(path, child)
        elif child.name in CONTAINERS:
            yield from atoms(child.children, (*path, child))
        elif child.name == "table" and child.elements("tbody"):
            body = child.elements("tbody")[0]
            yield from atoms(body.children, (*path, child, body))
        else:
            yield Atom(path, child.html(), child)


def smaller(atom: Atom, budget: int, weigh: Weigher) -> list[Atom]:
    """``atom`` in pieces of at most ``budget`` (as far as a character allows): the blocks it
    holds, else its inline content cut at lines, then words, then characters."""
    if weigh.markup(atom.markup) <= budget:
        return [atom]
    node = atom.node
    if node is None:  # loose text
        return [Atom(atom.path, piece) for piece in inline_pieces([atom.markup], budget, weigh)]
    inner = (*atom.path, node)
    if any(isinstance(c, Node) and c.name in BLOCKS for c in node.children):
        return [piece for child in atoms(node.children, inner)
                for piece in smaller(child, budget, weigh)]
    overhead = weigh.markup(node.open + node.close)
    return [Atom(inner, piece)
            for piece in inline_pieces(node.children, max(budget - overhead, 1), weigh)]


def _chunks(text: str, budget: int, weigh: Weigher) -> Iterator[str]:
    """Raw HTML text in chunks: lines, a line too long in words, a word in characters (cut in
    the unescaped text, so never inside an entity)."""
    for line in re.findall(r"[^\n]*\n|[^\n]+", text):
        if weigh.markup(line) <= budget:
            yield line
            continue
        for word in re.findall(r"\S+\s*|\s+", line):
            if weigh.markup(word) <= budget:
                yield word
                continue
            plain = html.unescape(word)
            widest = max(weigh.markup(html.escape(char, quote=False)) for char in set(plain))
            step = max(1, budget // widest)
            for start in range(0, len(plain), step):
                yield html.escape(plain[start:start + step], quote=False)


def _tokens(children: Sequence[Node | str], budget: int,
            weigh: Weigher) -> Iterator[tuple[str, Node | str]]:
    """Inline content as a flat sequence: ``open``/``close`` of elements, ``text`` chunks."""
    for item in children:
        if isinstance(item, str):
            yield from (("text", chunk) for chunk in _chunks(item, budget, weigh))
        elif item.name in VOID:
            yield "text", item.open
        else:
            yield "open", item
            yield from _tokens(item.children, budget, weigh)
            yield "close", item


def inline_pieces(children: Sequence[Node | str], budget: int, weigh: Weigher) -> list[str]:
    """Inline content cut into pieces of about ``budget``, each well formed: the elements open
    at a cut are closed there and opened again in the next piece."""
    pieces: list[str] = []
    stack: list[Node] = []
    current: list[str] = []
    used = 0
    text = False  # whether the current piece holds text yet
    for kind, value in _tokens(children, budget, weigh):
        if isinstance(value, Node):
            if kind == "open":
                stack.append(value)
                current.append(value.open)
            else:
                stack.pop()
                current.append(value.close)
            used += weigh.markup(value.open + value.close) // 2  # half at each end
            continue
        size = weigh.markup(value)
        if used + size > budget and text:
            pieces.append("".join(current) + "".join(n.close for n in reversed(stack)))
            current = [n.open for n in stack]
            used = sum(weigh.markup(n.open + n.close) for n in stack)
            text = False
        current.append(value)
        used += size
        text = text or bool(value.strip())
    if text:
        pieces.append("".join(current))
    return pieces


def _opening(node: Node, inside: Node | None) -> str:
    """``node``'s tag opened again: a numbered list starts at the item it holds, a table
    repeats its header."""
    if node.name == "ol" and inside is not None:
        start = list_start(node) + inside.index
        return _START.sub("", node.open)[:-1] + (f' start="{start}">' if start != 1 else ">")
    if node.name == "table":
        return node.open + "\n" + "".join(head.html() + "\n" for head in node.elements("thead"))
    return node.open


def assemble(group: Sequence[Atom]) -> str:
    """The HTML of consecutive pieces, the elements around them opened and closed once."""
    out: list[str] = []
    opened: list[Node] = []
    for atom in group:
        shared = 0
        while (shared < len(opened) and shared < len(atom.path)
               and opened[shared] is atom.path[shared]):
            shared += 1
        for node in reversed(opened[shared:]):
            out.append(node.close + "\n")
        del opened[shared:]
        chain = (*atom.path, atom.node)
        for depth in range(shared, len(atom.path)):
            node = atom.path[depth]
            out.append(_opening(node, chain[depth + 1]) + ("\n" if node.name in CONTAINERS
                                                          or node.name in ("tbody",) else ""))
            opened.append(node)
        out.append(atom.markup.strip("\n") + ("\n" if atom.node is not None else ""))
    for node in reversed(opened):
        out.append(node.close + "\n")
    return "".join(out).strip("\n")


def pack(pieces: Sequence[Atom], budget: int, weigh: Weigher) -> list[list[Atom]]:
    """Consecutive pieces grouped greedily into parts of about ``budget``."""
    parts: list[list[Atom]] = [[]]
    used = 0
    for atom in pieces:
        size = weigh.markup(atom.markup)
        if parts[-1] and used + size > budget:
            parts.append([])
            used = 0
        parts[-1].append(atom)
        used += size
    return parts


def grouped(tree: Node, budget: int, weigh: Weigher) -> list[list[Atom]]:
    """The message's pieces for ``budget``, grouped into parts of about that much."""
    return pack([piece for atom in atoms(tree.children) for piece in smaller(atom, budget, weigh)],
                budget, weigh)


def balanced(tree: Node, groups: list[list[Atom]], budget: int,
             weigh: Weigher) -> list[list[Atom]]:
    """As many parts as ``groups``, of about the same size: the smallest budget between an
    even share and ``budget`` that needs no more parts (a binary search), so that the text is
    not a full part and a scrap."""
    count = len(groups)
    low = sum(weigh.markup(atom.markup) for group in groups for atom in group) // count
    best, high = groups, budget
    while count > 1 and high - low > budget // 100:
        middle = (low + high) // 2
        even = grouped(tree, middle, weigh)
        if len(even) <= count:
            best, high = even, middle
        else:
            low = middle
    return best
