"""Messages too large for one event: sent in a few parts, or as a file with a short summary.

The homeserver refuses an event over 65,536 bytes (the whole PDU as canonical JSON, with the
fields it adds: ids of previous and authorising events, hashes, signatures…), and in an
encrypted room the event is the ciphertext of the message, base64 and larger than the text.
So the size that counts is the one of the content **as it will be sent** (``content_size``).

A message over ``CONTENT_LIMIT`` is cut (``plan``) between blocks of its HTML — paragraphs,
headings, list items, table rows (the table's header repeated in each part), lines of a
paragraph, words of a line, characters of a word, in that order of preference — into parts each
valid HTML with its plain body made from it, « (suite 2/3) » at the head of the later parts.
More than ``MAX_PARTS`` parts would bury the room: the message then goes as a Markdown file
(its plain body) after an upload, followed by a summary (its first line, the file's name and
size). A message the homeserver still refuses as too large goes as a file too.

Everything is derived from the message alone (the same cut after a restart), and each part,
the file's message and the summary have a transaction id derived from the row's: a resend
after a crash is deduplicated by the homeserver, never posted twice.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bot.matrix import MatrixError
from bot.render import markdown_to_html
from commands.effects import txn_id
from commands.i18n import Translator
from commands.text import defuse_mentions, escape_markdown, shorten

EVENT_LIMIT = 65_536  # Synapse's MAX_PDU_SIZE: the whole event as canonical JSON
SERVER_FIELDS = 4_096  # what the homeserver adds around the content, generously
CONTENT_LIMIT = EVENT_LIMIT - SERVER_FIELDS
MAX_PARTS = 3  # more would bury the room: a file instead
TOO_LARGE = "M_TOO_LARGE"
HEADER_ALLOWANCE = 200  # the « (suite 2/3) » line, in the budget of each part
TITLE_CHARS = 200  # of the first line, in a file's summary
_SHRINK = 0.85  # a cut whose parts are still too large is made again with this much less
_ATTEMPTS = 12

# What nio's megolm envelope holds besides the ciphertext: keys of 43 characters, and the
# device id (at most 255 here, far more than any).
_ENVELOPE = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "k" * 43, "ciphertext": "",
             "session_id": "s" * 43, "device_id": "d" * 255}


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def megolm_size(plaintext: int) -> int:
    """The base64 length of a megolm message holding ``plaintext`` bytes (at most: the message
    index takes up to 5 bytes): a version byte, the index and the AES-CBC ciphertext (PKCS#7
    padded to the next 16 bytes) as protobuf fields, an 8-byte MAC, a 64-byte signature."""
    ciphertext = (plaintext // 16 + 1) * 16
    length_varint = max(1, math.ceil(ciphertext.bit_length() / 7))
    raw = 1 + (1 + 5) + (1 + length_varint + ciphertext) + 8 + 64
    return math.ceil(raw * 4 / 3)


def _plaintext_size(content: dict[str, Any], event_type: str, room_id: str) -> int:
    """What nio encrypts: ``{"content", "type", "room_id"}`` as compact JSON, non-ASCII
    characters escaped (``é`` takes 6 bytes there, 2 in a plain event)."""
    payload = {"content": content, "type": event_type, "room_id": room_id}
    return len(json.dumps(payload, separators=(",", ":")))


def content_size(content: dict[str, Any], event_type: str, room_id: str,
                 encrypted: bool) -> int:
    """The size of ``content`` in the event the homeserver will check: as canonical JSON, or,
    in an encrypted room, the megolm envelope holding its ciphertext (``m.relates_to`` stays
    in clear beside it)."""
    if not encrypted:
        return len(_canonical(content))
    envelope = dict(_ENVELOPE)
    if "m.relates_to" in content:
        envelope["m.relates_to"] = content["m.relates_to"]
    return (len(_canonical(envelope))
            + megolm_size(_plaintext_size(content, event_type, room_id)))


def fits(content: dict[str, Any], event_type: str, room_id: str, encrypted: bool) -> bool:
    return content_size(content, event_type, room_id, encrypted) <= CONTENT_LIMIT


# --- HTML as a tree (the renderer's output: well formed, the Matrix subset) ---------------

_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|[^<]+|<")
VOID = {"br", "hr", "img"}
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "blockquote",
          "table", "thead", "tbody", "tr", "th", "td", "hr", "div", "details", "summary",
          "caption"}
CONTAINERS = {"ul", "ol", "blockquote", "div", "details"}  # cut between their children
_START = re.compile(r'\sstart="?\d*"?')


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


# --- The body: plain text made from the HTML, in the style of the renderer's bodies ---------

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
        start = _start(node)
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
        return "```\n" + html.unescape(_text(node)).rstrip("\n") + "\n```"
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
    if not href or href.startswith("https://matrix.to/#/") or href == text:
        return text  # a pill shows as its text, like the renderer's bodies
    return f"[{text}]({href})"


def _text(node: Node | str) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(child) for child in node.children)


def _start(node: Node) -> int:
    found = re.search(r'start="?(\d+)', node.open)
    return int(found.group(1)) if found else 1


# --- Cutting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """The smallest piece the cut keeps whole: ``markup`` inside the elements ``path`` (opened
    again in each part that holds some of their content); ``node`` when it is one element."""

    path: tuple[Node, ...]
    markup: str
    node: Node | None = None


class _Weigher:
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


def smaller(atom: Atom, budget: int, weigh: _Weigher) -> list[Atom]:
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


def _chunks(text: str, budget: int, weigh: _Weigher) -> Iterator[str]:
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


def inline_pieces(children: Sequence[Node | str], budget: int, weigh: _Weigher) -> list[str]:
    """Inline content cut into pieces of about ``budget``, each well formed: the elements open
    at a cut are closed there and opened again in the next piece."""
    tokens: list[tuple[str, Node | str]] = []

    def flatten(items: Sequence[Node | str]) -> None:
        for item in items:
            if isinstance(item, str):
                tokens.extend(("text", chunk) for chunk in _chunks(item, budget, weigh))
            elif item.name in VOID:
                tokens.append(("text", item.open))
            else:
                tokens.append(("open", item))
                flatten(item.children)
                tokens.append(("close", item))

    flatten(children)
    pieces: list[str] = []
    stack: list[Node] = []
    current: list[str] = []
    used = 0
    text = False  # whether the current piece holds text yet
    for kind, value in tokens:
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
        start = _start(node) + inside.index
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


def pack(pieces: Sequence[Atom], budget: int, weigh: _Weigher) -> list[list[Atom]]:
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


def grouped(tree: Node, budget: int, weigh: _Weigher) -> list[list[Atom]]:
    """The message's pieces for ``budget``, grouped into parts of about that much."""
    return pack([piece for atom in atoms(tree.children) for piece in smaller(atom, budget, weigh)],
                budget, weigh)


def balanced(tree: Node, groups: list[list[Atom]], budget: int,
             weigh: _Weigher) -> list[list[Atom]]:
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


# --- Plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A queued message as it will be sent."""

    room_id: str
    content: dict[str, Any]
    txn_id: str
    event_type: str = "m.room.message"
    encrypted: bool = False

    @property
    def size(self) -> int:
        return content_size(self.content, self.event_type, self.room_id, self.encrypted)

    @property
    def splittable(self) -> bool:
        """A text message (not an edit): it may go in parts or as a file."""
        return (self.event_type == "m.room.message"
                and isinstance(self.content.get("body"), str)
                and self.content.get("msgtype") in ("m.text", "m.notice", "m.emote")
                and "m.new_content" not in self.content)

    @property
    def fileable(self) -> bool:
        """A text message or an edit of one: it may go as a file."""
        return (self.event_type == "m.room.message"
                and isinstance(self.content.get("body"), str))

    def fits(self, content: dict[str, Any]) -> bool:
        return fits(content, self.event_type, self.room_id, self.encrypted)


@dataclass(frozen=True)
class AsFile:
    """The text as a file (``data`` under ``filename``), then ``summary`` telling it."""

    data: bytes
    filename: str
    mimetype: str
    file_content: dict[str, Any]
    file_txn: str
    summary: dict[str, Any]
    summary_txn: str


def part_txn(txn: str, number: int) -> str:
    return txn_id("part", f"{txn}#{number}")


def parts(message: Message, t: Translator) -> list[tuple[dict[str, Any], str]] | None:
    """The parts of a message too large for one event, each with its transaction id; ``None``
    when they would be more than ``MAX_PARTS`` (or a part cannot be made small enough)."""
    if message.size > MAX_PARTS * CONTENT_LIMIT:
        return None  # the text alone would fill more parts
    content = message.content
    rich = isinstance(content.get("formatted_body"), str)
    weigh = _Weigher(message.encrypted, rich)
    markup = content["formatted_body"] if rich else html.escape(content["body"], quote=False)
    tree = parse(markup) if rich else Node("", "", [Node("p", "<p>", [markup])])
    budget = _budget(message)
    for _ in range(_ATTEMPTS):
        if budget <= HEADER_ALLOWANCE:
            return None
        groups = grouped(tree, budget, weigh)
        if len(groups) > MAX_PARTS:
            return None
        groups = balanced(tree, groups, budget, weigh)
        made = [_part(message, assemble(group), number, len(groups), rich, t)
                for number, group in enumerate(groups, start=1)]
        if all(message.fits(part) for part in made):
            return [(part, part_txn(message.txn_id, number))
                    for number, part in enumerate(made, start=1)]
        budget = int(budget * _SHRINK)
    return None


def _budget(message: Message) -> int:
    """How much of a part's HTML and body (as weighed) fits beside the rest of the content."""
    bare = {**message.content, "body": "", "formatted_body": ""}
    if not message.encrypted:
        return CONTENT_LIMIT - content_size(bare, message.event_type, message.room_id,
                                            False) - HEADER_ALLOWANCE
    envelope = content_size(bare, message.event_type, message.room_id, True) - megolm_size(
        _plaintext_size(bare, message.event_type, message.room_id))
    plaintext = (CONTENT_LIMIT - envelope) * 3 // 4 - 100
    return plaintext - _plaintext_size(bare, message.event_type, message.room_id) \
        - HEADER_ALLOWANCE


def _part(message: Message, markup: str, number: int, count: int, rich: bool,
          t: Translator) -> dict[str, Any]:
    """Part ``number`` of ``count``: its own text, the people it names, and the relations
    that hold for each part (a thread) or for the first (the reply)."""
    if number == 1:
        markup = f"{markup}\n<p>{html.escape(t('oversize.first_part', parts=count))}</p>"
    else:
        label = t("oversize.next_part", part=number, parts=count)
        markup = f"<p>{html.escape(label)}</p>\n{markup}"
    content = {key: value for key, value in message.content.items()
               if key not in ("body", "formatted_body", "m.mentions", "m.relates_to")}
    content["body"] = body_of(markup)
    if rich:
        content["formatted_body"] = markup
    mentioned = _mentions(message.content)
    if mentioned is not None:
        named = [user for user in mentioned if _names(markup, user)]
        if number == 1:  # and those named nowhere (the person answered)
            named += [user for user in mentioned if not _names(message.content.get(
                "formatted_body") or message.content["body"], user) and user not in named]
        others = message.content["m.mentions"] if number == 1 else {}  # "room": once
        content["m.mentions"] = {**others, "user_ids": named}
    relation = message.content.get("m.relates_to")
    if isinstance(relation, dict) and (number == 1 or relation.get("rel_type") == "m.thread"):
        content["m.relates_to"] = relation
    return content


def _mentions(content: dict[str, Any]) -> list[str] | None:
    mentions = content.get("m.mentions")
    if not isinstance(mentions, dict) or not isinstance(mentions.get("user_ids"), list):
        return None
    return [str(user) for user in mentions["user_ids"]]


def _names(markup: str, user_id: str) -> bool:
    return user_id in markup or user_id in unquote(markup)


def as_file(message: Message, t: Translator) -> AsFile:
    """The text of ``message`` as a Markdown file (its plain body), and the message telling it:
    its first line, the file's name and size, with the message's mentions and relations (an
    edit's summary is the edit)."""
    content = message.content
    new = content.get("m.new_content")
    shown = new if isinstance(new, dict) else content
    text = str(shown.get("body", ""))
    data = text.encode()
    filename = t("oversize.filename")
    relation = content.get("m.relates_to")
    file_content: dict[str, Any] = {
        "msgtype": "m.file", "body": filename, "filename": filename,
        "info": {"mimetype": "text/markdown", "size": len(data)}, "m.mentions": {}}
    if isinstance(relation, dict) and relation.get("rel_type") != "m.replace":
        file_content["m.relates_to"] = relation
    title = _title(shown.get("formatted_body"), text)
    lines = [escape_markdown(shorten(title, TITLE_CHARS))] if title else []
    lines.append(t("oversize.as_file", filename=filename, size=max(1, round(len(data) / 1024)),
                   lines=text.count("\n") + 1))
    markdown = "\n\n".join(lines)
    summary_text = {"body": "\n\n".join(_plain(line) for line in lines),
                    "format": "org.matrix.custom.html",
                    "formatted_body": markdown_to_html(markdown)}
    summary = {**content, **summary_text}
    if isinstance(new, dict):
        summary = {**summary, "body": "* " + summary_text["body"],
                   "formatted_body": "* " + summary_text["formatted_body"],
                   "m.new_content": {**new, **summary_text}}
    return AsFile(data, filename, "text/markdown", file_content,
                  txn_id("file", message.txn_id), summary, txn_id("summary", message.txn_id))


def _title(markup: Any, text: str) -> str:
    """The first line of a message's text (its HTML's when it has some: no Markdown signs)."""
    if isinstance(markup, str):
        text = html.unescape(_text(parse(markup[:TITLE_CHARS * 20])))
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _plain(markdown: str) -> str:
    return body_of(markdown_to_html(markdown))


# --- Sending -------------------------------------------------------------------------------

Send = Callable[[dict[str, Any], str], Awaitable[str]]
"""Sends a content with a transaction id (to the message's room); returns the event id."""
Upload = Callable[[bytes, str, str], Awaitable[dict[str, Any]]]
"""Uploads data (mimetype, filename); returns the content fields naming it."""


async def deliver(message: Message, send: Send, upload: Upload, t: Translator) -> str:
    """Sends ``message`` whole if it fits, else in parts, else as a file; returns the event id
    that stands for it (the first part's, the summary's). The homeserver refusing it as too
    large sends it as a file instead (parts already sent stay: nothing is lost)."""
    if message.fits(message.content) or not message.fileable:
        try:
            return await send(message.content, message.txn_id)
        except MatrixError as error:
            if error.code != TOO_LARGE or not message.fileable:
                raise
            return await _send_file(message, send, upload, t)
    # Cutting a long text takes a tenth of a second or so: not on the event loop.
    split = await asyncio.to_thread(parts, message, t) if message.splittable else None
    if split is None:
        return await _send_file(message, send, upload, t)
    try:
        first = await send(*split[0])
        for part in split[1:]:
            await send(*part)
    except MatrixError as error:
        if error.code != TOO_LARGE:
            raise
        return await _send_file(message, send, upload, t)
    return first


async def _send_file(message: Message, send: Send, upload: Upload, t: Translator) -> str:
    plan = as_file(message, t)
    fields = await upload(plan.data, plan.mimetype, plan.filename)
    await send({**plan.file_content, **fields}, plan.file_txn)
    return await send(plan.summary, plan.summary_txn)
