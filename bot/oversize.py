"""Messages too large for one event: sent in a few parts, or as a file with a short summary.

The homeserver refuses an event over 65,536 bytes (the whole PDU as canonical JSON, with the
fields it adds: ids of previous and authorising events, hashes, signatures…), and in an
encrypted room the event is the ciphertext of the message, base64 and larger than the text.
So the size that counts is the one of the content **as it will be sent** (``content_size``).

A message over ``CONTENT_LIMIT`` is cut (``parts``, with ``bot.cutting``) between blocks of its
HTML — paragraphs, headings, list items, table rows (the table's header repeated in each part),
lines of a paragraph, words of a line, characters of a word, in that order of preference — into
parts each valid HTML with its plain body made from it (``bot.markup``), « (suite 2/3) » at the
head of the later parts.
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from bot.cutting import Weigher, assemble, balanced, grouped
from bot.markup import Node, body_of, parse, text_of
from bot.matrix_api import MatrixError
from bot.render import file_content, markdown_to_html
from commands.effects import txn_id
from commands.i18n import Translator
from commands.text import escape_markdown, shorten

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
    weigh = Weigher(message.encrypted, rich)
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
    file: dict[str, Any] = {**file_content(filename, "text/markdown", len(data)),
                            "m.mentions": {}}
    if isinstance(relation, dict) and relation.get("rel_type") != "m.replace":
        file["m.relates_to"] = relation
    title = _title(shown.get("formatted_body"), text)
    lines: list[str] = [escape_markdown(shorten(title, TITLE_CHARS))] if title else []
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
    return AsFile(data, filename, "text/markdown", file,
                  txn_id("file", message.txn_id), summary, txn_id("summary", message.txn_id))


def _title(markup: Any, text: str) -> str:
    """The first line of a message's text (its HTML's when it has some: no Markdown signs)."""
    if isinstance(markup, str):
        text = html.unescape(text_of(parse(markup[:TITLE_CHARS * 20])))
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
