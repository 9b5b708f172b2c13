"""Argument tokenising and typed converters.

A command line is split into words; double quotes (``"…"`` or ``« … »``) keep spaces inside one
argument. Apostrophes are ordinary letters (``l'atelier``). A converter turns one raw string into
a typed value or raises ``BadArgument`` with a catalog key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from commands.errors import BadArgument
from commands.text import fold
from matrix_ids import MATRIX_TO, is_user_id

MAX_LINE = 4000
# ``--theme``; phones often turn ``--`` into an em or en dash, accepted as well.
_OPTION_RE = re.compile(r"(?<!\S)(?:--|—|–)(\w[\w-]*)")
QUOTES = {'"': '"', "«": "»", "“": "”"}  # opening → closing
_PILL_RE = re.compile(re.escape(MATRIX_TO) + r"(@[^\s/?\"'<>()]+)")


def split_words(text: str) -> list[str]:
    """Splits on white space, keeping quoted parts together (quotes removed)."""
    words: list[str] = []
    current: list[str] = []
    closing: str | None = None
    in_word = False
    for char in text:
        if closing is not None:
            if char == closing:
                closing = None
            else:
                current.append(char)
        elif char in QUOTES and not current:
            closing = QUOTES[char]
            in_word = True
        elif char.isspace():
            if in_word:
                words.append("".join(current).strip())
                current, in_word = [], False
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current).strip())
    return words


def split_first(text: str) -> tuple[str, str]:
    """The first word and the rest of the line (stripped)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def split_options(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``--option``, then each option's name and value (the text up to
    the next option), in order: ``Vélo --theme mobilité --territoire sud``."""
    matches = list(_OPTION_RE.finditer(text))
    if not matches:
        return text.strip(), []
    options = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        options.append((match.group(1), text[match.end():end].strip()))
    return text[: matches[0].start()].strip(), options


class Converter(Protocol):
    """Turns a raw argument into a typed value; ``kind`` names it in usage messages."""

    @property
    def kind(self) -> str: ...

    def convert(self, raw: str) -> Any: ...


@dataclass(frozen=True)
class Text:
    """Free text, at most ``max_length`` characters."""

    max_length: int = 2000
    kind: str = "text"

    def convert(self, raw: str) -> str:
        value = raw.strip()
        if not value:
            raise BadArgument("error.empty_text")
        if len(value) > self.max_length:
            raise BadArgument("error.text_too_long", maximum=self.max_length)
        return value


@dataclass(frozen=True)
class Word:
    """One word, folded (lower case, no accents)."""

    max_length: int = 64
    kind: str = "word"

    def convert(self, raw: str) -> str:
        value = fold(raw.strip())
        if not value or len(value) > self.max_length:
            raise BadArgument("error.bad_word", value=raw[:40])
        return value


@dataclass(frozen=True)
class Integer:
    """A whole number between ``minimum`` and ``maximum``; ``#12`` and ``n°12`` accepted."""

    minimum: int = 1
    maximum: int = 1_000_000
    kind: str = "integer"

    def convert(self, raw: str) -> int:
        cleaned = raw.strip().removeprefix("#").removeprefix("n°").removeprefix("N°")
        if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 9:
            raise BadArgument("error.not_integer", value=raw[:40])
        value = int(cleaned)
        if not self.minimum <= value <= self.maximum:
            raise BadArgument("error.out_of_range", minimum=self.minimum, maximum=self.maximum)
        return value


@dataclass(frozen=True)
class Choice:
    """One of fixed words; each choice may have aliases (fr/en), matched without accents."""

    choices: Sequence[tuple[str, Sequence[str]]]
    kind: str = "choice"

    def convert(self, raw: str) -> str:
        wanted = fold(raw.strip())
        for value, aliases in self.choices:
            if wanted == fold(value) or wanted in (fold(a) for a in aliases):
                return value
        listed = ", ".join(value for value, _ in self.choices)
        raise BadArgument("error.bad_choice", value=raw[:40], choices=listed)


@dataclass(frozen=True)
class UserId:
    """A Matrix user: ``@name:server`` or a mention pill (``https://matrix.to/#/@…``), valid
    under the spec's grammar (``matrix_ids``)."""

    kind: str = "user"

    def convert(self, raw: str) -> str:
        value = raw.strip()
        pill = _PILL_RE.search(value)
        if pill:
            value = unquote(pill.group(1))
        if not is_user_id(value):
            raise BadArgument("error.bad_user", value=raw[:60])
        return value


@dataclass(frozen=True)
class People:
    """Several Matrix users (ids or pills) separated by spaces, commas or semicolons: each
    once, in the order given; at most ``max_length`` characters."""

    max_length: int = 10_000
    kind: str = "people"

    def convert(self, raw: str) -> tuple[str, ...]:
        value = Text(self.max_length).convert(raw)
        return tuple(dict.fromkeys(UserId().convert(word)
                                   for word in _PEOPLE_SEPARATORS.split(value) if word))


_PEOPLE_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class HttpsLink:
    """An absolute ``https://`` web address (a visio link): a host, no spaces, no markup."""

    max_length: int = 500
    kind: str = "link"

    def convert(self, raw: str) -> str:
        value = raw.strip().strip("<>")
        parts = urlsplit(value)
        if (parts.scheme.lower() != "https" or not parts.hostname or len(value) > self.max_length
                or any(char.isspace() or char in "<>\"'`" for char in value)):
            raise BadArgument("error.bad_link", value=raw.strip()[:60])
        return value
