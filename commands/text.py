"""Text helpers: accent/case folding for matching, Markdown escaping, mention neutralising."""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")
_MARKDOWN_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&])")
_ROOM_PING = re.compile(r"@(room)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"


def fold(text: str) -> str:
    """Lower-case without accents, for matching names: ``Aidé`` → ``aide``."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def defuse_mentions(text: str) -> str:
    """Breaks ``@room`` in user text so that no client treats it as a room-wide ping."""
    return _ROOM_PING.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def escape_markdown(text: str) -> str:
    """User text made inert for the Markdown renderer (and ``@room`` defused)."""
    return defuse_mentions(_MARKDOWN_SPECIAL.sub(r"\\\1", text))


def unescape_markdown(text: str) -> str:
    """The plain text of escaped Markdown (for a message's plain ``body``)."""
    return _MARKDOWN_ESCAPED.sub(r"\1", text)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
