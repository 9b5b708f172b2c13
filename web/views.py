"""What the public sees of an event, a group, an initiative: plain values, nothing personal
(no Matrix id, no participant's name; counts only), for the JSON API and the pages alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from commands.context import Club
from commands.dates import PARIS
from commands.i18n import Translator
from commands.meetings.calendar import place_url
from commands.meetings.vocabulary import MEETING_STATUSES, MEETING_TERRITORIES, PRESENT, WAITING
from commands.vocabulary import NEED_KINDS, STATUSES, TERRITORIES, THEMES, Vocabulary

if TYPE_CHECKING:
    from storage.meetings import MeetingSummary
    from storage.models import GroupNeed, Initiative, ProjectGroup
    from storage.projects import GroupSummary


@dataclass(frozen=True)
class Label:
    """A key of a closed list and its French label."""

    key: str
    label: str

    @classmethod
    def of(cls, vocabulary: Vocabulary, key: str, t: Translator) -> Label:
        """``key`` and its label in ``vocabulary``."""
        return cls(key, vocabulary.label(key, t))


class PublicView:
    """A view the API gives as JSON (``as_json``: its fields, dates in ISO 8601)."""

    def as_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True)
class Registration:
    """An event with places: how many, how many left, how many wait for one."""

    capacity: int
    taken: int
    free: int
    waiting: int


@dataclass(frozen=True)
class EventView(PublicView):
    id: int
    kind: Label
    title: str
    theme: Label | None
    description: str
    starts_at: datetime  # in the club's time zone
    ends_at: datetime
    territory: Label
    group: int | None  # the group it is for (``GroupView.id``)
    place: str
    link: str  # the online link (a video call), if any
    status: Label
    registration: Registration | None  # ``None``: no registration, come along

@dataclass(frozen=True)
class NeedView:
    kind: Label
    text: str


@dataclass(frozen=True)
class GroupView(PublicView):
    id: int
    slug: str
    name: str
    theme: Label
    territory: Label
    status: Label
    members: int
    needs: list[NeedView]
    join: str  # the command that joins it, to say in one of the club's Matrix rooms
    room: str  # the club's room to say it in (its address)
    description: str = ""

@dataclass(frozen=True)
class InitiativeView(PublicView):
    id: int
    name: str
    theme: Label
    commune: str
    description: str
    link: str

def _json(view: object) -> dict[str, Any]:
    def value(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        if isinstance(item, dict):
            return {key: value(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [value(inner) for inner in item]
        return item

    return value(asdict(view))  # type: ignore[call-overload,no-any-return]


def zone_of(event: EventView) -> ZoneInfo:
    """The club's time zone, the one the view's times are in."""
    tz = event.starts_at.tzinfo
    return tz if isinstance(tz, ZoneInfo) else PARIS


def event_view(summary: MeetingSummary, club: Club, t: Translator) -> EventView:
    meeting = summary.meeting
    registration = None
    if meeting.capacity is not None:
        taken = summary.answers.get(PRESENT, 0)
        registration = Registration(capacity=meeting.capacity, taken=taken,
                                    free=max(meeting.capacity - taken, 0),
                                    waiting=summary.answers.get(WAITING, 0))
    return EventView(
        id=meeting.id, kind=Label(meeting.kind, club.event_kinds.label(meeting.kind)),
        title=meeting.title,
        theme=Label.of(THEMES, meeting.theme, t) if meeting.theme else None,
        description=meeting.description, starts_at=meeting.starts_at.astimezone(club.tz),
        ends_at=meeting.ends_at.astimezone(club.tz),
        territory=Label.of(MEETING_TERRITORIES, meeting.territory, t),
        group=meeting.group_id, place=meeting.place,
        link=meeting.link or place_url(meeting.place) or "",
        status=Label.of(MEETING_STATUSES, meeting.status, t),
        registration=registration)


def group_view(group: GroupSummary | ProjectGroup, members: int, needs: list[GroupNeed],
               club: Club, t: Translator, prefix: str) -> GroupView:
    return GroupView(
        id=group.id, slug=group.slug, name=group.name,
        theme=Label.of(THEMES, group.theme, t),
        territory=Label.of(TERRITORIES, group.territory, t),
        status=Label.of(STATUSES, group.status, t), members=members,
        needs=[NeedView(Label.of(NEED_KINDS, n.kind, t), n.text) for n in needs],
        join=f"{prefix}projet rejoindre {group.slug}", room=club.entrance,
        description=getattr(group, "description", ""))


def initiative_view(item: Initiative, t: Translator) -> InitiativeView:
    return InitiativeView(id=item.id, name=item.name,
                          theme=Label.of(THEMES, item.theme, t),
                          commune=item.commune, description=item.description, link=item.link)


def named(groups: list[GroupView], name: str) -> GroupView | None:
    """The group of ``groups`` that ``name`` names: its number or its short name."""
    return next((group for group in groups if name in (group.slug, str(group.id))), None)
