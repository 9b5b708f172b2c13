"""What handlers may know of the homeserver while they run (implemented in ``bot/``): only what
the bot already holds from its sync, never a request. Whatever needs the homeserver (a room
created, an invite, a pin) is an effect, done after the commit (``commands.effects``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RoomFacts:
    """A room the bot is in, and one person's place there."""

    room_id: str
    joined: bool | None  # whether the person is joined (``None``: the bot cannot tell yet)
    power: int  # their power level in the room


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
