"""Reading ``!vote``: ``!vote 1 oui 2 si-besoin 3 non``, ``!vote 1+ 2? 3-``, ``!vote 4 2 non``
(poll 4), ``!vote 2 retirer``, ``!vote retirer``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from commands.errors import BadArgument
from commands.text import fold

WITHDRAW = "withdraw"
_WORDS = {
    "yes": ("oui", "o", "yes", "y", "ok", "+", "present", "dispo", "disponible"),
    "maybe": ("si-besoin", "si-necessaire", "sinecessaire", "sibesoin", "peut-etre", "peutetre",
              "maybe", "?", "~", "bof", "if-needed", "if-need-be"),
    "no": ("non", "n", "no", "-", "absent", "indispo", "indisponible"),
    WITHDRAW: ("retirer", "retrait", "aucun", "annuler", "x", "0", "withdraw", "remove", "none"),
}
_BY_WORD = {word: answer for answer, words in _WORDS.items() for word in words}
_PHRASES = re.compile(r"\b(si|peut|if)\s+(besoin|necessaire|etre|needed|need\s+be)\b")
_COMPACT = re.compile(r"^(\d{1,2})\s*([+?~\-x])$")
_NUMBER = re.compile(r"^(?:#|n°)?(\d{1,6})$")


@dataclass(frozen=True)
class Ballot:
    """What a ``!vote`` line asks: for which poll (``None``: the room's), which answers."""

    poll: int | None
    answers: tuple[tuple[int, str], ...]  # (slot position, yes|maybe|no|withdraw)
    withdraw_all: bool = False


def read_ballot(text: str) -> Ballot:
    """Raises ``BadArgument`` with examples when the line cannot be read."""
    words = _words(text)
    if not words:
        raise BadArgument("polls.ballot_empty")
    if len(words) == 1 and _BY_WORD.get(words[0]) == WITHDRAW:
        return Ballot(None, (), withdraw_all=True)
    answers = _pairs(words)
    if answers is not None:
        return Ballot(None, answers)
    poll = _NUMBER.match(words[0])
    if poll:
        rest = words[1:]
        if len(rest) == 1 and _BY_WORD.get(rest[0]) == WITHDRAW:
            return Ballot(int(poll.group(1)), (), withdraw_all=True)
        answers = _pairs(rest)
        if answers:
            return Ballot(int(poll.group(1)), answers)
    raise BadArgument("polls.ballot_unreadable", value=text[:60])


def _words(text: str) -> list[str]:
    folded = _PHRASES.sub(lambda m: f"{m.group(1)}-{m.group(2).replace(' ', '-')}", fold(text))
    folded = re.sub(r"(\d)\s*([+?~]|-(?!\w))", r"\1\2 ", folded)
    return [w for w in re.split(r"[\s,;]+", folded) if w]


def _pairs(words: list[str]) -> tuple[tuple[int, str], ...] | None:
    """``1 oui 2 non`` or ``1+ 2-``; ``None`` if the words are not only that."""
    found: list[tuple[int, str]] = []
    index = 0
    while index < len(words):
        compact = _COMPACT.match(words[index])
        if compact:
            sign = compact.group(2)
            found.append((int(compact.group(1)), WITHDRAW if sign == "x" else _BY_WORD[sign]))
            index += 1
            continue
        number = re.match(r"^\d{1,2}$", words[index])
        if number and index + 1 < len(words) and words[index + 1] in _BY_WORD:
            found.append((int(words[index]), _BY_WORD[words[index + 1]]))
            index += 2
            continue
        return None
    return tuple(found) if found else None
