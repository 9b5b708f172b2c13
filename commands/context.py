"""What a handler receives (``Context``) and returns (``Reply``, defined beside the effects it
carries in ``commands.effects``, whose ``Post`` holds one: both are importable from here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from commands.caps import Limits
from commands.categories import Categories
from commands.effects import Effect
from commands.event_kinds import EventKinds
from commands.i18n import Translator
from commands.report_settings import ReportSettings
from commands.rhythm import ReminderRules
from commands.roles import Asker, Role

if TYPE_CHECKING:
    from commands.ports import MatrixPort
    from storage.repositories import Repositories


class HelpTopic(Protocol):
    """A command as ``!aide`` shows it (``commands.registry.Command``)."""

    def visible_to(self, who: Asker | Role) -> bool: ...

    def find(self, word: str) -> HelpTopic | None: ...

    def takes_option(self, name: str) -> bool: ...

    def takes_param(self, name: str) -> bool: ...

    def detail(self, who: Asker | Role, t: Translator, prefix: str) -> str: ...


class Commands(Protocol):
    """The bot's commands as ``!aide`` reads them (``commands.registry.Registry``)."""

    def index(self, who: Asker | Role, t: Translator, prefix: str) -> str: ...

    def find(self, name: str) -> HelpTopic | None: ...

    @property
    def listeners(self) -> Mapping[str, Sequence[Callable[..., Awaitable[Any]]]]: ...


class Place(Enum):
    """Where a command is said, by who may read the answer."""

    CLUB = "club"  # one of the club's configured rooms: its members are the club
    GROUP = "group"  # a project group's room: its members are club members too
    DIRECT = "direct"  # a room of the bot and the sender alone (nobody else joined or invited)
    OTHER = "other"  # any other room: some readers may not be club members

    @property
    def members_only(self) -> bool:
        """Whether every reader of an answer here is a club member."""
        return self is not Place.OTHER


@dataclass(frozen=True)
class Standing:
    """Who the sender is for the club (their role; ``VISITOR`` if not a member) and where they
    speak."""

    role: Role
    place: Place = Place.CLUB


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
    charter_version: str = "1"  # club.charter_version: adopting the charter records it
    space: str | None = None  # the club's Matrix space (room id), if one is configured
    entrance: str = ""  # the main room's address as configured (an alias, for visitors)
    # The club's rooms by role (main, north, south, announcements), as room ids.
    rooms: Mapping[str, str] = field(default_factory=dict)
    coordinators: tuple[str, ...] = ()
    meeting_duration: timedelta = timedelta(hours=2)
    poll_reminder: timedelta = timedelta(hours=24)  # before a poll's deadline; zero: none
    reminders: ReminderRules = field(default_factory=ReminderRules)
    agenda_deadline: timedelta = timedelta(hours=48)  # agenda suggestions close this long before
    # Commands sent this recently while the bot was away are still run (matrix.catch_up_minutes)
    catch_up: timedelta = timedelta(hours=24)
    limits: Limits = field(default_factory=Limits)  # what one person may make the bot do
    event_kinds: EventKinds = field(default_factory=EventKinds)  # [events.kinds]
    categories: Categories = field(default_factory=Categories)  # [events.categories]
    report: ReportSettings = field(default_factory=ReportSettings)  # [report]
    # a room's newcomers are greeted at most this often (club.welcome_every_seconds)
    welcome_every: timedelta = timedelta(seconds=60)
    # the personal data of people inactive this long is erased ([privacy] retention_days;
    # ``None``: kept), and the commands and messages this old deleted (messages_retention_days)
    retention: timedelta | None = None
    messages_retention: timedelta | None = None
    # the public address of the bot's web server ([web] base_url), if it is enabled
    web_url: str = ""

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
    place: Place = Place.CLUB
    repos: Repositories | None = field(default=None, repr=False)
    matrix: MatrixPort | None = field(default=None, repr=False)
    # Whether a person is a club member (in a club room or a group's room); unset: everyone is.
    membership: Callable[[str], Awaitable[bool]] | None = field(default=None, repr=False)
    commands: Commands | None = field(default=None, repr=False)  # the registry it was found in

    async def is_member(self, user_id: str) -> bool:
        """Whether ``user_id`` is a club member."""
        return True if self.membership is None else await self.membership(user_id)

    async def took_part(self) -> None:
        """The sender took part in the club's life now (an act that counts in the yearly
        figures: see docs/bilan.md); called by the handler of each such act."""
        await self.db().participants.took_part([self.sender], self.now,
                                               self.now.astimezone(self.club.tz).year)

    async def announce(self, name: str, *facts: Any) -> list[Effect]:
        """Tells the capabilities listening to ``name`` (``Capability.listens``) what happened:
        each listener is called with ``facts`` and returns effects to add to the reply's."""
        listeners = self.commands.listeners.get(name, ()) if self.commands else ()
        effects: list[Effect] = []
        for listener in listeners:
            effects += await listener(*facts)
        return effects

    async def gather(self, name: str, *facts: Any) -> list[Any]:
        """Asks the capabilities listening to ``name`` for their part of a reply: what each
        listener returns for ``facts``, in their order."""
        listeners = self.commands.listeners.get(name, ()) if self.commands else ()
        return [await listener(*facts) for listener in listeners]

    def db(self) -> Repositories:
        """The repositories of this command's transaction."""
        if self.repos is None:
            raise RuntimeError("this command runs without a database transaction")
        return self.repos

    def homeserver(self) -> MatrixPort:
        """What the bot knows of its rooms from its sync (no request: whatever needs the
        homeserver is an effect)."""
        if self.matrix is None:
            raise RuntimeError("this command runs without a homeserver")
        return self.matrix


@dataclass(frozen=True)
class RoomOutcome:
    """What became of a room the bot was asked to open (``commands.effects.Outcome``), handed
    to its handler in a transaction of its own once the homeserver has answered."""

    room_id: str | None  # the room opened; ``None``: the homeserver refused to open it
    told_in: str  # where it was asked (the effect's ``room_id``): where to tell the outcome
    data: Mapping[str, Any]  # the outcome's data, as the handler that asked for it gave it
    repos: Repositories = field(repr=False)
    club: Club
    t: Translator
    now: datetime
    space_refused: bool = False  # a new room the club's space could not list (the bot's level)
    # Whether a person is a club member (as ``Context.membership``); unset: everyone is.
    membership: Callable[[str], Awaitable[bool]] | None = field(default=None, repr=False)

    async def is_member(self, user_id: str) -> bool:
        return True if self.membership is None else await self.membership(user_id)
