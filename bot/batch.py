"""What one sync response asks of the bot (``Batch``), and what it remembers of its rooms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.outbox import Queued
from commands.effects import Reply
from commands.events import PollResponse, Reaction, Redaction, ThreadMessage
from commands.text import storable, storable_id


def event_time(event: Any) -> datetime:
    """When the homeserver received ``event``."""
    return datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)


@dataclass
class KnownRoom:
    """What the bot remembers of a room it is in (mirrors the ``joined_rooms`` table): when it
    joined it last (older events are history) and the last timeline event seen there."""

    joined_at: datetime
    last_event_id: str | None = None


@dataclass
class Command:
    """A command received: its text storable (``commands.text.storable``), its thread's root
    kept only if it may be an event id."""

    event_id: str
    room_id: str
    sender: str
    body: str
    sent_at: datetime
    thread_root: str | None = None  # the thread it was sent in, if any

    def __post_init__(self) -> None:
        self.body = storable(self.body)
        self.thread_root = storable_id(self.thread_root or "") or None


@dataclass
class Arrival:
    room_id: str
    user_id: str


@dataclass
class Batch:
    """What one sync response asks of the bot, saved in one transaction."""

    commands: list[Command] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    # arrivals in a room that may be a configured room still being resolved (``Rooms.held``)
    maybe_arrivals: list[Arrival] = field(default_factory=list)
    poll_responses: list[PollResponse] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    redactions: list[Redaction] = field(default_factory=list)
    # text messages in threads that are not commands (comments on the bot's polls, maybe)
    thread_messages: list[ThreadMessage] = field(default_factory=list)
    queued: list[Queued] = field(default_factory=list)  # effects: sent after the commit
    # commands over their sender's rate, by event id: the notice to answer, or None (dropped)
    limited: dict[str, Reply | None] = field(default_factory=dict)
    newcomers: int = 0  # arrivals recorded for the first time: a welcome to schedule
    last_events: dict[str, str] = field(default_factory=dict)
    joined: dict[str, datetime] = field(default_factory=dict)  # rooms (re)joined: since when
    left: list[str] = field(default_factory=list)  # rooms left, or kicked or banned from
    own: dict[str, str] = field(default_factory=dict)  # the bot's events: txn id -> event id
    positioned: bool = False  # saved with the sync position (``BatchRecorder.save``)
    # the command recorded as handled, to run in the transaction that saves the batch
    run_here: Command | None = None

    def is_empty(self) -> bool:
        """Nothing to save but the sync token and the rooms' last events."""
        return not (self.commands or self.thread_messages) and self.is_repeatable()

    def is_repeatable(self) -> bool:
        """Nothing but commands, messages in threads (and chat): each command is known by its
        event id (the inbox), so reading the batch again from an earlier sync token would
        repeat nothing; a thread message read again is weighed again (one that became a
        comment saves the position with it: ``BatchRecorder.save``)."""
        return not (self.arrivals or self.poll_responses or self.reactions or self.redactions
                    or self.joined or self.left)

    def answers_only(self) -> bool:
        """One command and nothing else to save with it (its rows and the sync position aside,
        once saved: ``queued`` holds what else it left to send): a reply read in its
        transaction shows nothing its commit could still take back (``bot.ahead``)."""
        return (len(self.commands) == 1 and not (self.queued or self.thread_messages)
                and self.is_repeatable())

    def then(self, later: Batch) -> Batch:
        """This batch followed by ``later``, as one to save (batches kept in memory while
        another program holds the database's lock are saved together)."""
        joined = {room: at for room, at in self.joined.items() if room not in later.left}
        return Batch(
            commands=self.commands + later.commands, arrivals=self.arrivals + later.arrivals,
            poll_responses=self.poll_responses + later.poll_responses,
            reactions=self.reactions + later.reactions,
            redactions=self.redactions + later.redactions,
            thread_messages=self.thread_messages + later.thread_messages,
            limited={**self.limited, **later.limited},
            last_events={**self.last_events, **later.last_events},
            joined={**joined, **later.joined},
            left=self.left + [room for room in later.left if room not in self.left])
