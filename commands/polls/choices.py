"""Reading the answers to polls on anything and to proposals: ``!vote 5 2``, ``!vote 5 1 3``,
``!vote 5 autre Un thème``, ``!vote 5 retirer``; ``!position 7 d'accord parce que…``,
``!position 7 bloquer <raison>``, ``!position 7 retirer``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from commands.errors import BadArgument
from commands.text import fold, one_line

REASON_MAX = 500
OTHER_MAX = 200
POSITIONS = ("agree", "abstain", "disagree", "block")
WITHDRAW = "withdraw"
_POSITION_WORDS = {
    "agree": ("d'accord", "daccord", "accord", "pour", "oui", "favorable", "agree", "yes", "ok",
              "+"),
    "abstain": ("abstention", "abstiens", "abstenir", "neutre", "abstain", "abstention", "~"),
    "disagree": ("pas-d'accord", "pas-daccord", "pasdaccord", "contre", "desaccord", "non",
                 "defavorable", "disagree", "against", "no", "-"),
    "block": ("bloquer", "bloque", "blocage", "veto", "opposition", "block", "object"),
    WITHDRAW: ("retirer", "retrait", "annuler", "withdraw", "remove", "none"),
}
_BY_WORD = {word: answer for answer, words in _POSITION_WORDS.items() for word in words}
_PAS = re.compile(r"^(pas|not)[\s-]+(d'accord|daccord|agree)\b", re.IGNORECASE)
_OTHER_WORDS = ("autre", "autres", "other")
_NUMBER = re.compile(r"^(?:#|n°)?(\d{1,6})$")
_CHOICE_WORD = re.compile(r"[^\s,;]+")  # a ``!vote`` line's words: spaces, commas, semicolons


@dataclass(frozen=True)
class Position:
    """A ``!position`` line: the proposal's number, the position (or ``withdraw``), the reason."""

    poll: int
    answer: str
    reason: str | None


@dataclass(frozen=True)
class Choice:
    """A ``!vote`` line for a poll on anything: the options chosen (positions), an « autre »
    text, or everything withdrawn."""

    positions: tuple[int, ...] = ()
    other: str | None = None
    withdraw: bool = False


def _plain(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'").strip()


def poll_number(word: str) -> int | None:
    found = _NUMBER.match(word.strip())
    return int(found.group(1)) if found else None


def read_position(text: str) -> Position:
    """``<n> <position> [raison]``; raises ``BadArgument`` with examples."""
    text = _plain(text)
    parts = text.split(maxsplit=1)
    number = poll_number(parts[0]) if parts else None
    if number is None or len(parts) < 2:
        raise BadArgument("decisions.position_unreadable", value=text[:60])
    rest = _PAS.sub("pas-d'accord", parts[1].strip())
    word, _, reason = rest.partition(" ")
    answer = _BY_WORD.get(fold(word).rstrip(":,."))
    if answer is None:
        raise BadArgument("decisions.position_unreadable", value=text[:60])
    reason = one_line(reason).lstrip(":—-– ").strip()
    if len(reason) > REASON_MAX:
        raise BadArgument("error.text_too_long", maximum=REASON_MAX)
    if answer == "block" and not reason:
        raise BadArgument("decisions.block_needs_reason", number=number)
    if answer == WITHDRAW:
        return Position(number, WITHDRAW, None)
    return Position(number, answer, reason or None)


def read_choice(text: str, count: int, multiple: bool, allow_other: bool) -> Choice:
    """The options of a ``!vote`` line for a poll of ``count`` options (numbers, separated by
    spaces or commas; ``autre <texte>`` last when the poll allows it); ``BadArgument`` else."""
    text = _plain(text)
    found = list(_CHOICE_WORD.finditer(text))
    words = [match.group() for match in found]
    if not words:
        raise BadArgument("decisions.choice_empty")
    if len(words) == 1 and _BY_WORD.get(fold(words[0])) == WITHDRAW:
        return Choice(withdraw=True)
    positions: list[int] = []
    other = None
    for match in found:
        word = match.group()
        if fold(word) in _OTHER_WORDS:
            if not allow_other:
                raise BadArgument("decisions.no_other")
            other = one_line(text[match.end():]).strip(" ,;:—-–")  # the rest, on one line
            if not other:
                raise BadArgument("decisions.other_empty")
            if len(other) > OTHER_MAX:
                raise BadArgument("error.text_too_long", maximum=OTHER_MAX)
            break
        if not (word.isascii() and word.isdecimal()) or not 1 <= int(word) <= count:
            raise BadArgument("decisions.no_such_choice", value=word[:20], count=count)
        if int(word) not in positions:
            positions.append(int(word))
    if not multiple and len(positions) + (other is not None) > 1:
        raise BadArgument("decisions.single_choice")
    return Choice(tuple(positions), other)
