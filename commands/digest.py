"""Messages the bot sends on its own about many people or groups: one digest per room, not one
message each, cut into parts that name at most ``MAX_NAMED`` people each.

Every person a digest is about is still named (a pill) and mentioned (``m.mentions``): a part
names at most ``MAX_NAMED`` of them, so that each message stays short to read, far below the
homeserver's size limit (a name costs about 150 bytes: the id in the text, the link and
``m.mentions``), and notifies a bounded number of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

MAX_NAMED = 50  # people named in one message of a digest
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One line of a digest and the people it names."""

    markdown: str
    people: tuple[str, ...] = ()


def parts_of(entries: Sequence[Entry], max_named: int = MAX_NAMED) -> list[list[Entry]]:
    """The entries in order, cut into as few parts as keep each within ``max_named`` distinct
    people (an entry naming more than that alone is a part of its own)."""
    parts: list[list[Entry]] = []
    current: list[Entry] = []
    named: set[str] = set()
    for entry in entries:
        more = named | set(entry.people)
        if current and len(more) > max_named:
            parts.append(current)
            current, more = [], set(entry.people)
        current.append(entry)
        named = more
    if current:
        parts.append(current)
    return parts


def people_of(entries: Sequence[Entry]) -> tuple[str, ...]:
    """The people the entries name, each once, in order."""
    return tuple(dict.fromkeys(person for entry in entries for person in entry.people))


def in_groups_of(items: Sequence[T], size: int = MAX_NAMED) -> list[list[T]]:
    """``items`` in order, ``size`` at a time."""
    return [list(items[start:start + size]) for start in range(0, len(items), size)]
