"""Room events other than commands that a capability may care about (reactions, their removal,
messages in threads, answers to native polls), handed over by the sync loop in the transaction
that saves the batch to the consumers the capabilities declare
(``commands.capability.Capability``). What they carry from the event's content is storable:
text without control characters (``commands.text.storable``), event ids that may be ones
(``storable_id``, else empty)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commands.text import storable, storable_id

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from storage.repositories import Repositories


@dataclass(frozen=True)
class Reaction:
    """Someone reacted (``key``: an emoji) to an event."""

    event_id: str
    room_id: str
    sender: str
    target: str
    key: str
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", storable_id(self.target))
        object.__setattr__(self, "key", storable(self.key))


@dataclass(frozen=True)
class Redaction:
    """Someone took an event back (a reaction removed, a command withdrawn…)."""

    event_id: str
    room_id: str
    sender: str
    redacts: str
    at: datetime | None = None  # when it was sent (the homeserver's time)
    may_redact: bool = False  # the sender may redact other people's events in this room

    def __post_init__(self) -> None:
        object.__setattr__(self, "redacts", storable_id(self.redacts))

    def takes_back(self, room_id: str, author: str) -> bool:
        """Whether this redaction takes back an event ``author`` sent in ``room_id``: it was
        sent in that room, by the author or by someone allowed to redact there. (The
        homeserver accepts a redaction naming any event id, even of another room, and only
        applies it when it is allowed.)"""
        return self.room_id == room_id and (self.sender == author or self.may_redact)


@dataclass(frozen=True)
class PollResponse:
    """Someone's answer to one of the bot's native polls (empty ``answers``: withdrawn)."""

    event_id: str
    room_id: str
    sender: str
    at: datetime
    start_event_id: str
    answers: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_event_id", storable_id(self.start_event_id))
        object.__setattr__(self, "answers", tuple(storable(a) for a in self.answers))


@dataclass(frozen=True)
class ThreadMessage:
    """A text message in a thread that is not a command (``root``: the thread's first event),
    e.g. a comment answering one of the bot's polls in its thread."""

    event_id: str
    room_id: str
    sender: str
    root: str
    body: str
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", storable_id(self.root))
        object.__setattr__(self, "body", storable(self.body))


@dataclass
class RoomEvents:
    """What one sync batch brought besides commands."""

    reactions: Sequence[Reaction] = ()
    redactions: Sequence[Redaction] = ()
    thread_messages: Sequence[ThreadMessage] = ()


# A consumer records what concerns it and returns the effects to queue (same transaction).
Consumer = Callable[["Repositories", RoomEvents, "Club", "Translator"], Awaitable[list["Effect"]]]
# How an answer to a native poll is read from an event's content (event id, room, sender,
# time, content); ``None`` if it is not one.
ReadAnswer = Callable[[str, str, str, datetime, Mapping[str, Any]], "PollResponse | None"]
# The same for the answers club members gave to native polls.
PollAnswers = Callable[["Repositories", Sequence[PollResponse], "Club", "Translator"],
                       Awaitable[list["Effect"]]]


async def took_part(repos: Repositories, user_id: str, at: datetime, club: Club) -> None:
    """``user_id`` took part in the club's life at ``at`` by a room event (a 👍 that supports,
    a ✅ that adopts, a reply that comments): counted like a command (docs/bilan.md)."""
    await repos.participants.took_part([user_id], at, at.astimezone(club.tz).year)
