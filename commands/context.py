"""What a handler receives (``Context``) and returns (``Reply``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from commands.i18n import Translator
from commands.registry import Role

if TYPE_CHECKING:
    from commands.effects import Effect
    from commands.ports import MatrixPort
    from storage.repositories import Repositories


@dataclass(frozen=True)
class Reply:
    """A Markdown message for the room; ``mentions`` are the users it may notify; ``effects``
    are done after the commit (invites, announcements elsewhere…)."""

    markdown: str
    mentions: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Club:
    """The club's settings that handlers need (built by the runtime from the config)."""

    name: str
    prefix: str
    language: str
    timezone: str
    charter: str
    welcome_message: str
    version: str
    space: str | None = None  # the club's Matrix space (room id), if one is configured

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class Context:
    """One command being handled: who, where, when, in which language, with which role."""

    sender: str
    room_id: str
    event_id: str
    sent_at: datetime
    now: datetime
    role: Role
    club: Club
    t: Translator
    repos: Repositories | None = field(default=None, repr=False)
    matrix: MatrixPort | None = field(default=None, repr=False)

    def db(self) -> Repositories:
        """The repositories of this command's transaction."""
        if self.repos is None:
            raise RuntimeError("this command runs without a database transaction")
        return self.repos

    def homeserver(self) -> MatrixPort:
        """What the handler may ask of the homeserver directly (create or join a room)."""
        if self.matrix is None:
            raise RuntimeError("this command runs without a homeserver")
        return self.matrix
