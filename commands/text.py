"""Text helpers: text from outside made storable, accent/case folding for matching, Markdown
escaping, mention neutralising."""

from __future__ import annotations

import re
import unicodedata

from matrix_ids import MATRIX_TO, is_user_id, user_link

# ``=`` too: a line of them under a line of text would make it a heading
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&=])")
_MARKDOWN_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&=])")
_ROOM_PING = re.compile(r"@(room)\b", re.IGNORECASE)
# [text](https://matrix.to/#/…), brackets of the text possibly escaped
_PILL_LINK = re.compile(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]\(" + re.escape(MATRIX_TO) + r"[^)\s]+\)")
_BACKTICKS = re.compile(r"`+")
WORD_JOINER = "\u2060"
# Controls that break a line (CR, CRLF, VT, FF, FS, GS, RS, NEL), and the other controls but tab
# (C0, DEL, C1) and lone surrogates (JSON may escape them: ``"\\ud800"``).
_LINE_BREAK = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85]")
_UNSTORABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_ID_BYTES = 255  # an event or room id, by the Matrix spec


class Markdown(str):
    """Text already written as safe Markdown (escaped user text, a pill, a code span): a refusal
    shows it as it is (``commands.dispatch.error_reply`` escapes its other values)."""

    __slots__ = ()


def storable(text: str) -> str:
    """Text from outside (a message, a reaction, a file) as the bot keeps and shows it: line
    breaks as ``\\n``, no other control character but tab (PostgreSQL refuses NUL in text, and
    none is visible) and no lone surrogate (it cannot be encoded)."""
    if text.isprintable():
        return text
    return _UNSTORABLE.sub("", _LINE_BREAK.sub("\n", text))


def storable_id(value: str) -> str:
    """An event id named in an event's content (a thread's root, a reaction's target): as it is
    when it may be one (no control, no surrogate, at most 255 bytes), else ``""`` (names
    nothing)."""
    if not value.isprintable() or len(value.encode("utf-8", "replace")) > MAX_ID_BYTES:
        return ""
    return value


def fold(text: str) -> str:
    """Lower-case without accents, for matching names: ``Aidé`` → ``aide``."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def defuse_mentions(text: str) -> str:
    """Breaks ``@room`` in user text so that no client treats it as a room-wide ping."""
    return _ROOM_PING.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def escape_markdown(text: str) -> Markdown:
    """User text made inert for the Markdown renderer (and ``@room`` defused)."""
    return Markdown(defuse_mentions(_MARKDOWN_SPECIAL.sub(r"\\\1", text)))


def pill(user_id: str, label: str | None = None) -> Markdown:
    """A person as a Matrix pill (Element shows their name and avatar); never a notification by
    itself: only ``m.mentions`` notifies. Only a valid user id becomes a link (percent-encoded);
    anything else is shown as escaped text."""
    text = escape_markdown(label or user_id)
    if not is_user_id(user_id):
        return text
    return Markdown(f"[{text}]({user_link(user_id)})")


def room_link(room_id: str, label: str) -> Markdown:
    """A room as a matrix.to link (Element shows it as the room's pill)."""
    return Markdown(f"[{escape_markdown(label)}]({MATRIX_TO}{room_id})")


def pills_as_text(markdown: str) -> str:
    """``[Alice](https://matrix.to/#/@alice:x)`` → ``Alice``, for a message's plain body."""
    return _PILL_LINK.sub(lambda m: m.group(1), markdown)


def unescape_markdown(text: str) -> str:
    """The plain text of escaped Markdown (for a message's plain ``body``)."""
    return _MARKDOWN_ESCAPED.sub(r"\1", text)


def inline_code(text: str) -> Markdown:
    """``text`` as a Markdown code span, whatever backticks it holds (``@room`` defused)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{defuse_mentions(text)}{pad}{fence}")


def one_line(text: str) -> str:
    """``text`` on one line, its runs of spaces and line breaks as one space (a text shown in a
    list item or after a label, which a blank line would let out of its place)."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def euros(cents: int) -> str:
    """An amount of money as French writes it: ``12 000 €``, ``1 500,50 €``."""
    whole, rest = divmod(cents, 100)
    text = f"{whole:,}".replace(",", "\u202f")
    return f"{text},{rest:02d} €" if rest else f"{text} €"
