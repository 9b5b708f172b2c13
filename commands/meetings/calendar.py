"""An event (a rencontre, a webinaire…) as a standard calendar file (RFC 5545), written with ``icalendar``.

One VCALENDAR, one VEVENT: a stable UID (``rencontre-<id>@cct-bot``) and a SEQUENCE bumped at
each change, so calendar applications update the event they already have instead of adding a
second one; local wall-clock times with ``TZID=Europe/Paris`` and the matching VTIMEZONE.
The calendar feeds of the web server (``web.feeds``) hold the same VEVENTs, many at a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from commands.event_kinds import CLUB_MEETING
from commands.i18n import Translator
from commands.meetings.vocabulary import CANCELLED, MEETING_TERRITORIES
from commands.text import escape_markdown, storable
from commands.vocabulary import THEMES

if TYPE_CHECKING:
    from commands.context import Club
    from storage.models import Meeting

PRODID = "-//Club Climat et Transition//cct-bot//FR"
_URL = re.compile(r"https?://[^\s<>\"']+")
_NOT_IN_URI = re.compile(r"[\x00-\x20\x7f-\x9f]")  # controls and spaces: none in a link


def meeting_uid(meeting_id: int) -> str:
    return f"rencontre-{meeting_id}@cct-bot"


def ics_filename(meeting_id: int) -> str:
    return f"rencontre-{meeting_id}.ics"


def feed_path(*, territory: str | None = None, kind: str | None = None,
              group_id: int | None = None) -> str:
    """The path of a calendar feed of the web server (``web.feeds``): a territory's, a kind's,
    a group's, or (none given) the whole programme's."""
    if territory is not None:
        return f"/calendrier/territoire/{territory}.ics"
    if kind is not None:
        return f"/calendrier/type/{kind}.ics"
    if group_id is not None:
        return f"/calendrier/groupe/{group_id}.ics"
    return "/calendrier.ics"


def subscription_links(base_url: str, path: str) -> tuple[str, str]:
    """A feed's ``webcal://`` address (calendar applications open it and subscribe) and its
    ``https://`` one (to paste where an application asks for a calendar's address)."""
    https = base_url.rstrip("/") + path
    return "webcal://" + https.split("://", 1)[1], https


def place_url(place: str) -> str | None:
    """The first web link of a place (a video call), if any."""
    found = _URL.search(place)
    return found.group(0).rstrip(".,;)") if found else None


def meeting_ics(meeting: Meeting, club: Club, t: Translator, tz: ZoneInfo, *,
                publish: bool = False) -> bytes:
    """The ``.ics`` of an event: PUBLISH while it stands, CANCEL (STATUS:CANCELLED) after;
    ``publish``: PUBLISH always, a cancelled event STATUS:CANCELLED as in the feeds (the web
    server's file of one event, opened by people who may never have had it)."""
    cancel = meeting.status == CANCELLED and not publish
    calendar = _calendar("CANCEL" if cancel else "PUBLISH")
    calendar.add_component(meeting_event(meeting, club, t, tz))
    return _with_timezone(calendar, [meeting], tz)


def feed_ics(meetings: Sequence[Meeting], club: Club, t: Translator, tz: ZoneInfo, *,
             name: str, refresh: timedelta) -> bytes:
    """A calendar to subscribe to: one VEVENT per event, the cancelled ones kept (STATUS:
    CANCELLED) so that calendars drop them; the same UIDs and SEQUENCEs as the events' own
    ``.ics`` files, and how often to read it again (REFRESH-INTERVAL, X-PUBLISHED-TTL)."""
    calendar = _calendar("PUBLISH")
    calendar.add("name", storable(name))
    calendar.add("x-wr-calname", storable(name))
    calendar.add("x-wr-timezone", tz.key)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, club, t, tz))
    return _with_timezone(calendar, meetings, tz)


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _with_timezone(calendar: Calendar, meetings: Sequence[Meeting], tz: ZoneInfo) -> bytes:
    """The calendar's bytes, with the VTIMEZONE of ``tz``: only the transitions around its
    events (a short VTIMEZONE, right even after 2037); none without events."""
    years = [m.starts_at.astimezone(tz).year for m in meetings]
    years += [m.ends_at.astimezone(tz).year for m in meetings]
    calendar.add_missing_timezones(first_date=date(min(years, default=2000) - 1, 1, 1),
                                   last_date=date(max(years, default=2000) + 2, 1, 1))
    data: bytes = calendar.to_ical()
    return data


def meeting_event(meeting: Meeting, club: Club, t: Translator, tz: ZoneInfo) -> Event:
    """An event as a VEVENT: a stable UID, its SEQUENCE, local wall-clock times; LOCATION its
    place (or its link), URL its link, CATEGORIES its kind and theme; STATUS CANCELLED once
    cancelled, CONFIRMED otherwise. No control character in its text but line breaks (RFC 5545
    forbids them; one stored before the bot cleaned its input is left out, in a link any)."""
    cancelled = meeting.status == CANCELLED
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    event = Event()
    event.add("uid", meeting_uid(meeting.id))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", storable(_summary(meeting, club, t)))
    # the bot checks links at its boundary; one stored otherwise (an older row, another
    # program) must not make the whole feed fail (icalendar refuses a line break in a URI)
    url = _NOT_IN_URI.sub("", meeting.link or place_url(meeting.place) or "")
    if meeting.place or meeting.link:
        event.add("location", storable(meeting.place or meeting.link))
    event.add("description", storable(_description(meeting, club, t)))
    kind = storable(club.event_kinds.label(meeting.kind))
    event.add("categories", [kind, *([THEMES.label(meeting.theme, t)] if meeting.theme else [])])
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if url:
        event.add("url", url)
    return event


def audience(meeting: Meeting, t: Translator, *, markdown: bool = False) -> str:
    """Whom it is for: a territory, or its groupe-projet by name and slug (escaped for
    Markdown with ``markdown``); a group no longer found, by its number."""
    if meeting.group_id is None:
        return MEETING_TERRITORIES.label(meeting.territory, t)
    if meeting.group_name is None:
        return t("meeting.for_group_number", group=meeting.group_id)
    name = escape_markdown(meeting.group_name) if markdown else meeting.group_name
    return t("meeting.for_group", name=name, slug=meeting.group_slug)


def _summary(meeting: Meeting, club: Club, t: Translator) -> str:
    """« Rencontre du Club … — nord » for a club's rencontre without a title; else « Webinaire —
    its title » (or its group's name, or its audience)."""
    if meeting.kind == CLUB_MEETING and not meeting.title:
        return t("meeting.ics_summary", club=club.name, territory=audience(meeting, t))
    about = meeting.title or meeting.group_name or audience(meeting, t)
    return f"{club.event_kinds.label(meeting.kind)} — {about}"


def _description(meeting: Meeting, club: Club, t: Translator) -> str:
    lines = [t("meeting.ics_description", kind=club.event_kinds.label(meeting.kind),
               number=meeting.id, club=club.name, territory=audience(meeting, t))]
    if meeting.description:
        lines.append(meeting.description)
    if meeting.link:
        lines.append(t("meeting.ics_link", link=meeting.link))
    if meeting.status == CANCELLED:
        lines.append(t("meeting.ics_cancelled", reason=meeting.cancel_reason or "—"))
    return "\n".join(lines)
