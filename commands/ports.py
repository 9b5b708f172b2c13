"""What handlers may ask of the homeserver while they run (implemented in ``bot/``).

Most effects wait for the commit (``commands.effects``); these few need an answer at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class RoomUnavailable(Exception):
    """The homeserver refused: unknown room, not invited, no permission…"""


class MatrixPort(Protocol):
    """Room operations a handler may need an answer to."""

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Mapping[str, int]) -> str:
        """Creates a private room (in ``space`` when given); returns its id."""
        ...

    async def enter_room(self, room: str) -> str:
        """Joins a room given by id, alias or matrix.to link; returns its id."""
        ...

    async def direct_room(self, user_id: str) -> str:
        """Creates a direct-message room with ``user_id`` (invited, ``is_direct``); returns its
        id. The caller remembers it and reuses it."""
        ...

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``room_id`` (joined or invited) as the bot last synced it:
        its own state, no request; ``False`` for a room the bot is not in."""
        ...
