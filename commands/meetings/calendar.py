"""A rencontre as a standard calendar file (RFC 5545), written with ``icalendar``.

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

from commands.i18n import Translator
from commands.meetings.vocabulary import CANCELLED, MEETING_TERRITORIES

if TYPE_CHECKING:
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


def meeting_ics(meeting: Meeting, club_name: str, t: Translator, tz: ZoneInfo) -> bytes:
    """The ``.ics`` of a rencontre: PUBLISH while it stands, CANCEL (STATUS:CANCELLED) after."""
    cancelled = meeting.status == CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    territory = MEETING_TERRITORIES.label(meeting.territory, t)
    event = Event()
    event.add("uid", meeting_uid(meeting.id))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", t("meeting.ics_summary", club=club_name, territory=territory))
    if meeting.place:
        event.add("location", meeting.place)
    description = [t("meeting.ics_description", number=meeting.id, club=club_name,
                     territory=territory)]
    if cancelled:
        description.append(t("meeting.ics_cancelled", reason=meeting.cancel_reason or "—"))
    event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    url = place_url(meeting.place)
    if url:
        event.add("url", url)
    calendar.add_component(event)
    # Only the transitions around the event: a short VTIMEZONE, right even after 2037.
    calendar.add_missing_timezones(first_date=date(start.year - 1, 1, 1),
                                   last_date=date(end.year + 2, 1, 1))
    data: bytes = calendar.to_ical()
    return data
