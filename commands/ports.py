"""What handlers may know of the homeserver while they run (implemented in ``bot/``): only what
the bot already holds from its sync, never a request. Whatever needs the homeserver (a room
created, an invite, a pin) is an effect, done after the commit (``commands.effects``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class RoomFacts:
    """A room the bot is in, and one person's place there."""

    room_id: str
    joined: bool | None  # whether the person is joined (``None``: the bot cannot tell yet)
    power: int  # their power level in the room


FILE_SIZE_LIMIT = 1_000_000  # bytes: the largest posted file the bot fetches (a sign-in sheet)


@dataclass(frozen=True)
class PostedFile:
    """A file someone posted in a room (``m.file``), as the sync brought it: enough to fetch it
    later (``source``: the content's ``url``, or its ``file`` when the room is encrypted)."""

    event_id: str
    name: str
    mimetype: str
    size: int | None  # as the sender declared it
    sent_at: datetime
    source: dict[str, Any] = field(default_factory=dict)


class MatrixPort(Protocol):
    """What the bot knows of its rooms, read from its synced state (no request)."""

    def room_facts(self, room: str, user_id: str) -> RoomFacts | None:
        """The room named by id, canonical alias or matrix.to link, if the bot is in it, with
        ``user_id``'s membership and power level there; read from the synced state (the bot
        never joins a room because a command named it)."""
        ...

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``room_id`` (joined or invited) as the bot last synced it:
        its own state, no request; ``False`` for a room the bot is not in."""
        ...

    def latest_file(self, room_id: str, user_id: str) -> PostedFile | None:
        """The latest file ``user_id`` posted in ``room_id`` that the bot saw since it started
        (within a day), from its sync: no request."""
        ...
