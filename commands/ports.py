"""What handlers may ask of the homeserver while they run (implemented in ``bot/``).

Most effects wait for the commit (``commands.effects``); these few need an answer at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class RoomUnavailable(Exception):
    """The homeserver refused: unknown room, not invited, no permission…"""


@dataclass(frozen=True)
class RoomFacts:
    """A room the bot is in, and one person's place there."""

    room_id: str
    joined: bool | None  # whether the person is joined (``None``: the bot cannot tell yet)
    power: int  # their power level in the room


class MatrixPort(Protocol):
    """Room operations a handler may need an answer to."""

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Mapping[str, int]) -> str:
        """Creates a private room (in ``space`` when given); returns its id."""
        ...

    def room_facts(self, room: str, user_id: str) -> RoomFacts | None:
        """The room named by id, canonical alias or matrix.to link, if the bot is in it, with
        ``user_id``'s membership and power level there; read from the synced state (the bot
        never joins a room because a command named it)."""
        ...

    async def direct_room(self, user_id: str) -> str:
        """Creates a direct-message room with ``user_id`` (invited, ``is_direct``); returns its
        id. The caller remembers it and reuses it."""
        ...

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``room_id`` (joined or invited) as the bot last synced it:
        its own state, no request; ``False`` for a room the bot is not in."""
        ...
