"""What an event is besides its date: its kind, title, theme, description, place and online
link, audience (the whole club, a territory, a group), places and organiser.

``EVENT_OPTIONS`` are the options ``!rencontre planifier`` and ``!sondage choisir`` share;
``read_details`` checks what was typed and gives an ``EventDetails`` for ``create_meeting``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from commands.arguments import HttpsLink, Integer, Text, UserId
from commands.errors import BadArgument, MissingArgument, UserError
from commands.event_kinds import CLUB_MEETING, GROUP_MEETING, TERRITORIAL_MEETING
from commands.meetings.vocabulary import MEETING_TERRITORIES
from commands.params import Option
from commands.projects.names import find_group, group_label
from commands.roles import Role
from commands.vocabulary import THEMES

if TYPE_CHECKING:
    from commands.context import Context
    from commands.event_kinds import EventKinds

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
CAPACITY_MAX = 10_000
PLACE_MAX = 300
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_ROOM_PING = re.compile(r"@room\b", re.IGNORECASE)

PLACE = Option("place", Text(PLACE_MAX), fr=("lieu", "ou", "adresse"),
               en=("place", "where", "location"))
TERRITORY = Option("territory", MEETING_TERRITORIES, fr=("territoire",), en=("territory",))
KIND = Option("kind", Text(80), fr=("type", "genre"), en=("kind",))
GROUP = Option("group", Text(120), fr=("groupe",), en=("group",))
THEME = Option("theme", THEMES, fr=("theme",), en=("topic",))
TITLE = Option("title", Text(TITLE_MAX), fr=("titre", "intitule"), en=("title",))
DESCRIPTION = Option("description", Text(DESCRIPTION_MAX), fr=("description", "desc"),
                     en=("about",))
LINK = Option("link", HttpsLink(), fr=("lien", "visio", "url"), en=("link", "online"))
CAPACITY = Option("capacity", Integer(1, CAPACITY_MAX), fr=("places", "capacite", "jauge"),
                  en=("capacity", "seats"))
EVENT_OPTIONS = (
    KIND,
    TITLE,
    THEME,
    DESCRIPTION,
    PLACE,
    LINK,
    GROUP,
    CAPACITY,
    Option("organiser", UserId(), fr=("organisateur", "organisatrice", "par"),
           en=("organiser", "organizer", "by")),
)


def clean_text(raw: str, name: str, limit: int) -> str:
    """Free text from a user (a place, a reason, minutes): at most ``limit`` characters, no HTML
    and no ``@room`` (it is escaped when shown anyway: refusing says so plainly)."""
    value = raw.strip()
    if not value:
        raise MissingArgument("error.missing_argument", name=name)
    if len(value) > limit:
        raise BadArgument("error.text_too_long", maximum=limit)
    if _MARKUP.search(value):
        raise BadArgument("meeting.no_markup")
    if _ROOM_PING.search(value):
        raise BadArgument("meeting.no_room_ping")
    return value


@dataclass(frozen=True)
class EventDetails:
    """An event's columns besides its date; ``rooms``: where a group's event is announced
    (its group's room), ``None`` for the club's rooms of its territory."""

    kind: str
    title: str = ""
    theme: str | None = None
    description: str = ""
    place: str = ""
    link: str = ""
    territory: str = "commun"
    group_id: int | None = None
    capacity: int | None = None
    organiser: str | None = None
    rooms: tuple[str, ...] | None = None

    def columns(self) -> dict[str, Any]:
        """What ``MeetingRepository.create`` stores besides the date, place and territory."""
        return {"kind": self.kind, "title": self.title, "theme": self.theme,
                "description": self.description, "link": self.link, "group_id": self.group_id,
                "capacity": self.capacity, "organiser": self.organiser}


def _default_kind(kinds: EventKinds, territory: str) -> str:
    """The kind of an event typed without ``--type``: the club's default, a rencontre
    territoriale instead of the club's rencontre for the north or the south."""
    north_or_south = MEETING_TERRITORIES.find(territory) in ("nord", "sud")
    if (north_or_south and kinds.default == CLUB_MEETING
            and TERRITORIAL_MEETING in dict(kinds.entries)):
        return TERRITORIAL_MEETING
    return kinds.default


async def read_details(ctx: Context, options: Mapping[str, Any],
                       territory: str | None = None) -> EventDetails:
    """The details typed with a command (``EVENT_OPTIONS``, ``--territoire``): free texts
    checked (``clean_text``), the kind among the club's, the group found, the organiser a club
    member (the sender by default). An event of the north or the south is a « rencontre
    territoriale » unless another kind is typed (a joint one, the club's default kind). A group's
    event is for its territory, in its room (only a coordinator plans one for a group without a
    room), and a « réunion de groupe-projet » unless another kind is typed."""
    def text(name: str, limit: int) -> str:
        raw = options.get(name)
        return clean_text(raw, name, limit) if raw else ""

    kinds = ctx.club.event_kinds
    where = territory or options.get("territory") or "commun"
    kind = kinds.convert(options["kind"]) if options.get("kind") else _default_kind(kinds, where)
    organiser = options.get("organiser") or ctx.sender
    if not await ctx.is_member(organiser):
        raise UserError("meeting.organiser_not_member", user=organiser)
    details = EventDetails(kind=kind, title=text("title", TITLE_MAX), theme=options.get("theme"),
                           description=text("description", DESCRIPTION_MAX),
                           place=text("place", PLACE_MAX), link=options.get("link") or "",
                           territory=where,
                           capacity=options.get("capacity"), organiser=organiser)
    if not options.get("group"):
        return details
    if options.get("territory"):
        raise UserError("meeting.group_or_territory")
    group = await find_group(ctx.db(), options["group"])
    if not group.room_id and ctx.role < Role.COORDINATOR:  # its referents speak in its room
        raise UserError("meeting.group_without_room", group=group_label(group),
                        prefix=ctx.club.prefix)
    territory_key = {"nord": "nord", "sud": "sud"}.get(group.territory, "commun")
    if not options.get("kind") and GROUP_MEETING in dict(kinds.entries):
        kind = GROUP_MEETING
    return replace(details, kind=kind, group_id=group.id, territory=territory_key,
                   rooms=(group.room_id,) if group.room_id else ())
