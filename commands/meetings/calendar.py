"""An event (a rencontre, a webinaire…) as a standard calendar file (RFC 5545), written with ``icalendar``.

One VCALENDAR, one VEVENT: a stable UID (``rencontre-<id>@cct-bot``) and a SEQUENCE bumped at
each change, so calendar applications update the event they already have instead of adding a
second one; local wall-clock times with ``TZID=Europe/Paris`` and the matching VTIMEZONE.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from commands.event_kinds import CLUB_MEETING
from commands.i18n import Translator
from commands.meetings.vocabulary import CANCELLED, MEETING_TERRITORIES
from commands.vocabulary import THEMES

if TYPE_CHECKING:
    from commands.context import Club
    from storage.models import Meeting

PRODID = "-//Club Climat et Transition//cct-bot//FR"
_URL = re.compile(r"https?://[^\s<>\"']+")


def meeting_uid(meeting_id: int) -> str:
    return f"rencontre-{meeting_id}@cct-bot"


def ics_filename(meeting_id: int) -> str:
    return f"rencontre-{meeting_id}.ics"


def place_url(place: str) -> str | None:
    """The first web link of a place (a video call), if any."""
    found = _URL.search(place)
    return found.group(0).rstrip(".,;)") if found else None


def meeting_ics(meeting: Meeting, club: Club, t: Translator, tz: ZoneInfo) -> bytes:
    """The ``.ics`` of an event: PUBLISH while it stands, CANCEL (STATUS:CANCELLED) after;
    LOCATION its place (or its link), URL its link, CATEGORIES its kind and theme."""
    cancelled = meeting.status == CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    event = Event()
    event.add("uid", meeting_uid(meeting.id))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", _summary(meeting, club, t))
    url = meeting.link or place_url(meeting.place)
    if meeting.place or meeting.link:
        event.add("location", meeting.place or meeting.link)
    event.add("description", _description(meeting, club, t))
    kind = club.event_kinds.label(meeting.kind)
    event.add("categories", [kind, *([THEMES.label(meeting.theme, t)] if meeting.theme else [])])
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if url:
        event.add("url", url)
    calendar.add_component(event)
    # Only the transitions around the event: a short VTIMEZONE, right even after 2037.
    calendar.add_missing_timezones(first_date=date(start.year - 1, 1, 1),
                                   last_date=date(end.year + 2, 1, 1))
    data: bytes = calendar.to_ical()
    return data


def _audience(meeting: Meeting, t: Translator) -> str:
    if meeting.group_id is not None:
        return t("meeting.for_group", group=meeting.group_id)
    return MEETING_TERRITORIES.label(meeting.territory, t)


def _summary(meeting: Meeting, club: Club, t: Translator) -> str:
    """« Rencontre du Club … — nord » for a club's rencontre without a title; else « Webinaire —
    its title » (or its audience)."""
    if meeting.kind == CLUB_MEETING and not meeting.title:
        return t("meeting.ics_summary", club=club.name, territory=_audience(meeting, t))
    return f"{club.event_kinds.label(meeting.kind)} — {meeting.title or _audience(meeting, t)}"


def _description(meeting: Meeting, club: Club, t: Translator) -> str:
    lines = [t("meeting.ics_description", kind=club.event_kinds.label(meeting.kind),
               number=meeting.id, club=club.name, territory=_audience(meeting, t))]
    if meeting.description:
        lines.append(meeting.description)
    if meeting.link:
        lines.append(t("meeting.ics_link", link=meeting.link))
    if meeting.status == CANCELLED:
        lines.append(t("meeting.ics_cancelled", reason=meeting.cancel_reason or "—"))
    return "\n".join(lines)
