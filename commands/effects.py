"""What a handler asks the runtime to do besides replying, saved with the command's changes.

The dispatcher stores each effect in the outbox in the same transaction as the command, with a
transaction id derived from the command, so it happens exactly once after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commands.context import Reply


@dataclass(frozen=True)
class Invite:
    """Invite a person into a room (already there or already invited: nothing happens)."""

    room_id: str
    user_id: str


@dataclass(frozen=True)
class Post:
    """A message in another room than the command's (an announcement)."""

    room_id: str
    reply: Reply


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


Effect = Invite | Post | React | PutState
