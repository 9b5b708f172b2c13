"""What a handler receives (``Context``) and returns (``Reply``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from commands.i18n import Translator
from commands.registry import Role
from commands.rhythm import ReminderRules

if TYPE_CHECKING:
    from commands.effects import Effect
    from commands.ports import MatrixPort
    from storage.repositories import Repositories


FollowUp = Callable[["Repositories"], Awaitable[Sequence["Effect"]]]


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
    forgotten: tuple[str, ...] = ()  # people whose data the command erased (nothing kept of them)


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
    # The club's rooms by role (main, north, south, announcements), as room ids.
    rooms: Mapping[str, str] = field(default_factory=dict)
    coordinators: tuple[str, ...] = ()
    meeting_duration: timedelta = timedelta(hours=2)
    poll_reminder: timedelta = timedelta(hours=24)  # before a poll's deadline; zero: none
    reminders: ReminderRules = field(default_factory=ReminderRules)
    agenda_deadline: timedelta = timedelta(hours=48)  # agenda suggestions close this long before
    # Commands sent this recently while the bot was away are still run (matrix.catch_up_minutes)
    catch_up: timedelta = timedelta(hours=24)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rooms_for(self, territory: str) -> list[str]:
        """Where news of a territory goes: its own room (or the main one), for the whole
        territory (``tout``, ``tous``, ``commun``) every club room; plus the announcements room."""
        by_territory = {"nord": ["north"], "sud": ["south"]}.get(territory, ["main", "north",
                                                                              "south"])
        rooms = [self.rooms[role] for role in by_territory if role in self.rooms]
        if not rooms and "main" in self.rooms:
            rooms = [self.rooms["main"]]
        if "announcements" in self.rooms:
            rooms.append(self.rooms["announcements"])
        return list(dict.fromkeys(rooms))


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
