"""What a handler returns (``Reply``: its message, and what it asks the runtime to do besides
replying), saved with the command's changes. ``Reply`` is here, not in ``commands.context``,
because an effect (``Post``) holds one: one module, no import cycle.

The dispatcher stores each effect in the outbox in the same transaction as the command, with a
transaction id derived from the command (or from the effect's ``key``), so it happens exactly
once after the commit: no handler waits for the homeserver. An effect may name a message queued
before it (``ref(key)``): the sender puts that message's event id in its place when it sends
(threads, edits, poll ends). A room the bot opens (``CreateRoom``, ``OpenDirectRoom``) has an
``Outcome``: the capability's handler for it records the new room and says what became of it,
in a transaction of its own once the homeserver has answered. An invite or a pin may carry a
``refused`` message, posted (once) if the homeserver forbids it to the bot.

A new effect is a dataclass here, added to ``Effect``; its outbox row and its executor are one
line of ``bot.effects.EFFECTS`` (docs/architecture.md, *How to add an effect*).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.repositories import Repositories

REF_PREFIX = "$$cct-ref:"


def txn_id(kind: str, key: str) -> str:
    """A stable transaction id for ``kind`` (reply, welcome, effect…) and what it is about."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"cct-{kind}-{digest}"


def effect_txn(key: str) -> str:
    """The transaction id of a keyed effect (``poll-3-slot-2``): found again by its key."""
    return txn_id("effect", key)


def ref(key: str) -> str:
    """A placeholder for the event id of the keyed effect ``key``, filled in when sending."""
    return REF_PREFIX + effect_txn(key)


FollowUp = Callable[["Repositories"], Awaitable[Sequence["Effect"]]]  # Reply.then


@dataclass(frozen=True)
class Reply:
    """A Markdown message for the room; ``mentions`` are the users it may notify; ``effects``
    are done after the commit (invites, announcements elsewhere…); ``then`` is work that can
    wait until the reply is on its way (a view to bring up to date): each runs in a transaction
    of its own, and the effects it returns are queued like ``effects``. A follow-up must be
    idempotent and its work recoverable at start, as it is lost if the bot stops first."""

    markdown: str
    mentions: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()
    reschedule: tuple[str, ...] = ()  # kinds of scheduled jobs to rebuild after the commit
    then: tuple[FollowUp, ...] = ()


@dataclass(frozen=True)
class Post:
    """A message in a room other than the command's (an announcement), possibly in a thread
    (``thread``: its root, an event id or a ``ref``; its fallback reply is the thread's latest
    event when it is sent) or replacing an earlier message (``replaces``)."""

    room_id: str
    reply: Reply
    key: str | None = None
    thread: str | None = None
    replaces: str | None = None
    about: tuple[str, ...] = ()  # whom it concerns besides those it names (a direct message)


@dataclass(frozen=True)
class Invite:
    """Invite a person into a room (already there or already invited: nothing happens);
    ``refused`` is posted if the homeserver forbids it (M_FORBIDDEN)."""

    room_id: str
    user_id: str
    refused: Post | None = None


@dataclass(frozen=True)
class SendEvent:
    """Any room event (a native poll, its end…): ``content`` may hold ``ref`` placeholders."""

    room_id: str
    event_type: str
    content: dict[str, Any]
    key: str | None = None


@dataclass(frozen=True)
class Upload:
    """A file posted in a room (a calendar file, the report's files): uploaded, then sent as
    ``m.file``, or as ``m.image`` for a PNG picture (a chart: shown inline)."""

    room_id: str
    filename: str
    mimetype: str
    data: bytes
    key: str | None = None
    about: tuple[str, ...] = ()  # whom the file concerns (a person's data)
    shared: bool = False  # the same bytes uploaded before may be posted again (a calendar)


@dataclass(frozen=True)
class React:
    """A reaction (emoji) on an event."""

    room_id: str
    event_id: str
    key: str


@dataclass(frozen=True)
class PutState:
    """A room state event (a space's child, pinned events…)."""

    room_id: str
    event_type: str
    state_key: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Pin:
    """Pins an event in a room (an event id or a ``ref``) and unpins others (a previous
    agenda); the room's other pins are kept."""

    room_id: str
    event: str
    unpin: tuple[str, ...] = ()
    refused: Post | None = None  # posted if the homeserver forbids it (the bot's power level)


@dataclass(frozen=True)
class Leave:
    """The bot leaves a room (after its last message there)."""

    room_id: str


@dataclass(frozen=True)
class Outcome:
    """What to do once a room the bot opens exists, or was refused: the handler declared for
    ``kind`` (``Registry.outcome``) runs with ``data`` (JSON values; a person's id under
    ``user_id``, so that an erasure finds it)."""

    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CreateRoom:
    """A private room (encrypted when the bot encrypts), in ``space`` when given, where
    ``moderators`` have the moderators' level (50); then its ``outcome``. ``room_id`` is where
    the outcome is told (the command's room): the creation waits there behind the reply."""

    room_id: str
    name: str
    topic: str
    space: str | None
    moderators: tuple[str, ...]
    outcome: Outcome
    key: str | None = None


@dataclass(frozen=True)
class OpenDirectRoom:
    """A new direct-message room with ``user_id`` (invited); then its ``outcome``. ``room_id``
    is where the outcome is told if the room cannot be opened (the command's room)."""

    room_id: str
    user_id: str
    outcome: Outcome


@dataclass(frozen=True)
class Fetch:
    """Fetches a file posted in a room (``source``: ``commands.ports.PostedFile.source``),
    outside any transaction, with a deadline and a size limit; then the handler declared for
    ``outcome.kind`` runs with ``outcome.data`` plus ``content`` (the bytes, base64) or
    ``problem`` (``too_big``, ``unreadable``). ``room_id``: where the file was posted (the
    fetch waits there behind the reply); ``about``: whom it concerns (who posted it)."""

    room_id: str
    source: Mapping[str, Any]
    outcome: Outcome
    about: tuple[str, ...] = ()
    key: str | None = None


Effect = (Invite | Post | SendEvent | Upload | React | PutState | Pin | Leave | CreateRoom
          | OpenDirectRoom | Fetch)
