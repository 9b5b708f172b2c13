"""A ``Reply`` becomes Matrix message content: Markdown rendered to safe HTML, intentional
mentions, a reply relation, and ``m.notice`` (the bots' convention); a file becomes an
``m.file`` message, a PNG picture an ``m.image`` one (clients show it inline)."""

from __future__ import annotations

import re
import struct
from typing import Any, Protocol
from urllib.parse import urlsplit

import nh3

from bot import cmark
from commands.effects import Reply
from commands.text import defuse_mentions, pills_as_text, unescape_markdown
from commands.threads import in_thread, reply_in_thread

# Tags and attributes from the Matrix spec's recommended HTML subset (m.room.message formats).
ALLOWED_TAGS = {
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
    "sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "target"},
    "code": {"class"},
    "ol": {"start"},
    "span": {"data-mx-color", "data-mx-bg-color"},
    "font": {"data-mx-color", "data-mx-bg-color", "color"},
}
URL_SCHEMES = {"https", "http", "mailto", "matrix"}
WEB_SCHEMES = {"https", "http"}

EXTENSIONS = ["table", "strikethrough"]  # no autolinks: a link is what a handler wrote as one


def render_markdown(markdown: str) -> str:
    """CommonMark with GitHub's tables and strikethrough (cmark-gfm, in C, an order of
    magnitude faster than pure-Python renderers on the bot's tables; ``bot.cmark`` frees what
    it allocates). Its safe mode leaves raw HTML out of the result and empties
    ``javascript:``-like links; handlers escape people's text anyway."""
    return cmark.markdown_to_html(markdown, EXTENSIONS)


def is_absolute_link(url: str) -> bool:
    """``https://host/…``, ``http://host/…``, ``mailto:…`` or ``matrix:…``; not a relative URL
    (``/path``, ``//host``, ``page``, ``#x``, ``https:page``), nor an emptied one."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in WEB_SCHEMES:
        return bool(parts.netloc)
    return scheme in URL_SCHEMES and bool(parts.path)


def _absolute_links_only(_tag: str, attribute: str, value: str) -> str | None:
    """A link that is not absolute with an allowed scheme is no link at all: a relative one
    would lead wherever the reader's client is (and ``//host`` to another site), one the
    renderer emptied (``javascript:``…) nowhere."""
    return value if attribute != "href" or is_absolute_link(value) else None


# The tags cmark-gfm writes without attributes (all in ``ALLOWED_TAGS``), and its void ones.
BARE_TAGS = ("p", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2",
             "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td")
VOID_TAGS = ("br", "hr")
BARE_TAG = re.compile(rf"</?(?:{'|'.join(BARE_TAGS)})>|<(?:{'|'.join(VOID_TAGS)}) />")


def bare_tags_only(html: str) -> bool:
    """Whether every ``<`` of cmark-gfm's output opens one of ``BARE_TAG``: its safe mode
    escapes every ``<`` of the text, so such HTML holds nothing but allowed tags without
    attributes (no link, image, comment or raw HTML), which sanitising would leave as is."""
    return html.count("<") == len(BARE_TAG.findall(html))


def markdown_to_html(markdown: str) -> str:
    """Markdown → sanitised HTML: raw HTML in the source never comes out as markup, and only
    absolute ``https``, ``http``, ``mailto`` and ``matrix`` links survive. HTML made
    only of bare allowed tags needs no sanitising (nh3 would parse and rewrite it the same);
    anything else (a link, an attribute, a comment) goes through nh3."""
    html = render_markdown(markdown)
    if bare_tags_only(html):
        return html.strip()
    return sanitise(html).strip()


def sanitise(html: str) -> str:
    """HTML cleaned by nh3 to the Matrix spec's subset, absolute links only."""
    cleaned: str = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                             url_schemes=URL_SCHEMES, url_relative="deny", link_rel=None,
                             attribute_filter=_absolute_links_only)
    return cleaned


def message_content(reply: Reply, *, in_reply_to: str | None = None,
                    reply_sender: str | None = None, thread: str | None = None,
                    msgtype: str = "m.notice") -> dict[str, Any]:
    """The ``m.room.message`` content for ``reply``: an answer to ``in_reply_to`` if given, in
    the thread of ``thread`` if given (there, an answer names the event it answers: not a
    fallback)."""
    mentions = list(dict.fromkeys([*reply.mentions, *([reply_sender] if reply_sender else [])]))
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": defuse_mentions(unescape_markdown(pills_as_text(reply.markdown))),
        "format": "org.matrix.custom.html",
        "formatted_body": markdown_to_html(reply.markdown),
        "m.mentions": {"user_ids": mentions},
    }
    if thread:
        content["m.relates_to"] = (reply_in_thread(thread, in_reply_to) if in_reply_to
                                   else in_thread(thread))
    elif in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


class Asked(Protocol):
    """A message the bot answers (a command): who sent it, and the thread it is in."""

    @property
    def event_id(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def thread_root(self) -> str | None: ...


def answer_content(reply: Reply, asked: Asked) -> dict[str, Any]:
    """``reply`` as the answer to ``asked``: in its thread if it was sent in one, naming its
    sender. Every answer to a command is made so, through the outbox or not."""
    return message_content(reply, in_reply_to=asked.event_id, reply_sender=asked.sender,
                           thread=asked.thread_root)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def file_content(filename: str, mimetype: str, size: int) -> dict[str, Any]:
    """An ``m.file`` message (the fields naming the file are added once it is uploaded)."""
    return {"msgtype": "m.file", "body": filename, "filename": filename,
            "info": {"mimetype": mimetype, "size": size}}


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG picture, from its header (``IHDR``, the first chunk); ``None``
    when ``data`` is not one."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (width, height) if width and height else None


def attachment_content(filename: str, mimetype: str, data: bytes) -> dict[str, Any]:
    """The message of a file posted: an ``m.image`` with its size in pixels for a PNG picture
    (Element shows it in the timeline), an ``m.file`` for anything else."""
    content = file_content(filename, mimetype, len(data))
    size = png_size(data) if mimetype == "image/png" else None
    if size is not None:
        content["msgtype"] = "m.image"
        content["info"].update(w=size[0], h=size[1])
    return content
