"""What the outbox needs from the homeserver: the ``Transport`` protocol, implemented by
``bot.matrix.MatrixTransport`` (nio) and by the tests' fake. Each call but ``latest_file`` (the
synced files, read) is one request (its deadline: the transport's); a failure raises
``MatrixError`` and the caller decides whether to try again (the outbox does, for its rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from commands.ports import PostedFile


@dataclass(frozen=True)
class NewRoom:
    """A room the bot created, and whether the space it was meant for refused to list it."""

    room_id: str
    space_refused: bool = False


class Transport(Protocol):
    """The homeserver as the outbox and the effects' executors use it."""

    @property
    def user_id(self) -> str:
        """The bot's Matrix id."""
        ...

    @property
    def answered_at(self) -> float:
        """Loop time of the homeserver's last successful answer (0: none yet)."""
        ...

    def is_encrypted(self, room_id: str) -> bool:
        """Whether what is sent to the room is encrypted (its size as sent depends on it)."""
        ...

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        """Sends an event with a stable transaction id; returns its event id."""
        ...

    async def upload(self, room_id: str, data: bytes, mimetype: str,
                     filename: str) -> dict[str, Any]:
        """Uploads a file meant for the room; returns the content fields naming it."""
        ...

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invites a person (already there: done)."""
        ...

    async def put_state(self, room_id: str, event_type: str, state_key: str,
                        content: dict[str, Any]) -> str:
        """Sets a state event; returns its event id."""
        ...

    async def pin(self, room_id: str, event_id: str, unpin: list[str]) -> str:
        """Pins ``event_id`` and unpins ``unpin``, the room's other pins kept."""
        ...

    async def leave(self, room_id: str) -> None:
        """The bot leaves the room."""
        ...

    async def create_room(self, *, name: str, topic: str, space: str | None,
                          moderators: Sequence[str]) -> str:
        """A private room (in ``space``'s hierarchy as its child's parent); returns its id."""
        ...

    async def direct_room(self, user_id: str, opening: str = "") -> str:
        """A new direct-message room with ``user_id`` (invited), marked ``opening``; returns
        its id."""
        ...

    async def opened_room(self, user_id: str, opening: str) -> str | None:
        """The room the bot is in that a ``direct_room`` call for ``user_id`` marked
        ``opening`` made: one the bot created, ``user_id`` in it."""
        ...

    def latest_file(self, room_id: str, user_id: str) -> PostedFile | None:
        """The latest CSV file ``user_id`` posted in ``room_id`` within a day, as the sync
        brought it: no request (what handlers read through ``commands.ports.MatrixPort``; the
        file is then fetched by a ``fetch`` row)."""
        ...

    async def fetch_file(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """A posted file's bytes, decrypted (``PostedFile.source``), within a deadline and
        ``commands.ports.FILE_SIZE_LIMIT``: ``{"content": base64}``, or ``{"problem":
        "too_big"}`` / ``{"problem": "unreadable"}``; never raises."""
        ...
