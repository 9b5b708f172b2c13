"""How rencontres look in the rooms: announcements, the card, the list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from commands.context import Club
from commands.dates import Slot, format_slot
from commands.i18n import Translator
from commands.meetings.calendar import audience, place_url
from commands.meetings.vocabulary import (
    CANCELLED,
    HELD,
    MEETING_STATUSES,
    WAITING,
)
from commands.paging import Section, Window
from commands.text import escape_markdown, pill, shorten
from commands.vocabulary import THEMES

if TYPE_CHECKING:
    from storage.meetings import MeetingSummary
    from storage.models import Meeting, MeetingAttendance, MeetingRsvp

NAMES_SHOWN = 30
PLACE_IN_LIST = 60


def slot_of(meeting: Meeting) -> Slot:
    return Slot(meeting.starts_at, meeting.ends_at)


def when(meeting: Meeting, club: Club, t: Translator) -> str:
    """« jeudi 14 janvier 2027, 18h30–20h30 » in the club's time zone."""
    return format_slot(slot_of(meeting), t.language, club.tz)


def place(text: str, t: Translator, limit: int | None = None, *, online: bool = False) -> str:
    """The place as Markdown: a bare link is clickable, anything else is escaped text; no
    place: « en ligne » for an online event."""
    if not text:
        return t("meeting.online") if online else t("meeting.no_place")
    url = place_url(text)
    if url == text and limit is None:
        return f"<{url}>"
    return escape_markdown(shorten(text, limit) if limit else text)


def where(meeting: Meeting, t: Translator, limit: int | None = None) -> str:
    return place(meeting.place, t, limit, online=bool(meeting.link))


def kind(meeting: Meeting, club: Club) -> str:
    """The kind's label (« Webinaire »), from the config."""
    return club.event_kinds.label(meeting.kind)


def heading(meeting: Meeting, club: Club, t: Translator, *, group: bool = True) -> str:
    """« Webinaire n°4 — Rénover sa maison » (its title escaped), « Rencontre du club n°1 »;
    a group's event names its group, « Réunion de groupe-projet n°5 (Atelier vélo) », unless
    ``group`` is false (its audience, ``territory``, follows)."""
    title = escape_markdown(meeting.title) if meeting.title else ""
    named = group and meeting.group_name
    group_part = f" ({escape_markdown(meeting.group_name or '')})" if named else ""
    return t("meeting.heading", kind=kind(meeting, club), number=meeting.id,
             title=group_part + (f" — {title}" if title else ""))


def territory(meeting: Meeting, t: Translator) -> str:
    """Whom it is for: a territory, or its groupe-projet (``calendar.audience``)."""
    return audience(meeting, t, markdown=True)


def _facts(meeting: Meeting, club: Club, t: Translator) -> dict[str, object]:
    return {"number": meeting.id, "club": club.name, "when": when(meeting, club, t),
            "place": where(meeting, t), "territory": territory(meeting, t),
            "prefix": club.prefix,
            "heading": heading(meeting, club, t, group=False)}


def details(meeting: Meeting, t: Translator, *, capacity: bool = True) -> list[str]:
    """The lines of what an event has besides its date and place: link, theme, organiser,
    places (unless ``capacity`` is false: the card says them with the registrations)."""
    lines = []
    if meeting.link:
        lines.append(t("meeting.line_link", link=f"<{meeting.link}>"))
    if meeting.theme:
        lines.append(t("meeting.line_theme", theme=THEMES.label(meeting.theme, t)))
    if meeting.organiser:
        lines.append(t("meeting.line_organiser", organiser=pill(meeting.organiser)))
    if capacity and meeting.capacity is not None:
        lines.append(t("meeting.line_capacity", count=meeting.capacity))
    return lines


def announcement(meeting: Meeting, club: Club, t: Translator) -> str:
    """The message announcing a new event in its rooms."""
    text = "\n".join([t("meeting.announce", **_facts(meeting, club, t)), *details(meeting, t)])
    if meeting.description:
        text += "\n\n" + escape_markdown(meeting.description)
    if meeting.poll_id is not None:
        text += "\n\n" + t("meeting.announce_poll", poll=meeting.poll_id)
    return "\n\n".join([text, how_to_answer(meeting, club, t), t("meeting.announce_ics")])


def how_to_answer(meeting: Meeting, club: Club, t: Translator) -> str:
    key = "meeting.how_to_register" if meeting.capacity is not None else "meeting.how_to_answer"
    return t(key, number=meeting.id, prefix=club.prefix)


def rescheduled(meeting: Meeting, old: Slot, club: Club, t: Translator) -> str:
    return t("meeting.moved_announce", old=format_slot(old, t.language, club.tz),
             **_facts(meeting, club, t))


def edited(meeting: Meeting, changed: Sequence[str], club: Club, t: Translator) -> str:
    """The announcement of an event's changed details (``changed``: their names), each with
    its new value."""
    lines = [t("meeting.edited_announce", **_facts(meeting, club, t))]
    lines += [t(f"meeting.edited_{name}", value=_detail(meeting, name, t))
              for name in changed]
    return "\n".join(lines) + "\n\n" + t("meeting.edited_ics")


def _detail(meeting: Meeting, name: str, t: Translator) -> str:
    if name == "capacity":
        return str(meeting.capacity)
    if name == "place":
        return where(meeting, t)
    if name == "link":
        return f"<{meeting.link}>"
    if name == "theme":
        return THEMES.label(meeting.theme, t) if meeting.theme else ""
    return escape_markdown(str(getattr(meeting, name)))


def cancelled(meeting: Meeting, club: Club, t: Translator) -> str:
    text = t("meeting.cancelled_announce", **_facts(meeting, club, t))
    if meeting.cancel_reason:
        text += "\n\n" + t("meeting.reason_line", reason=escape_markdown(meeting.cancel_reason))
    return text + "\n\n" + t("meeting.cancelled_ics")


def names(user_ids: Sequence[str], t: Translator) -> str:
    """People as pills (never a notification: the reply's mentions stay empty)."""
    if not user_ids:
        return t("meeting.nobody")
    shown = ", ".join(pill(user) for user in user_ids[:NAMES_SHOWN])
    if len(user_ids) > NAMES_SHOWN:
        shown += " " + t("meeting.and_more", count=len(user_ids) - NAMES_SHOWN)
    return shown


def minutes(text: str) -> str:
    url = place_url(text)
    return f"<{url}>" if url == text else escape_markdown(text)


def most_named(rsvps: Sequence[MeetingRsvp], attendance: Sequence[MeetingAttendance]) -> int:
    """The length of the card's longest list of people (one answer's, or who came)."""
    counts = Counter(rsvp.answer for rsvp in rsvps)
    return max([len(attendance), *counts.values()])


def card(meeting: Meeting, rsvps: Sequence[MeetingRsvp], attendance: Sequence[MeetingAttendance],
         club: Club, t: Translator, *, upcoming: bool, window: Window,
         named: bool = True) -> str:
    """``!rencontre info``: everything about one event; ``window`` tells which of the people
    who answered (and came) are named, ``NAMES_SHOWN`` of each kind a page; ``named``:
    whether the answers name people at all (else they are counted only)."""
    facts = _facts(meeting, club, t)
    lines = [t("meeting.card_title", heading=facts["heading"],
               status=MEETING_STATUSES.label(meeting.status, t)),
             t("meeting.card_when", when=facts["when"]),
             t("meeting.card_place", place=facts["place"]),
             t("meeting.card_territory", territory=facts["territory"]),
             *details(meeting, t, capacity=False)]
    if meeting.poll_id is not None:
        lines.append(t("meeting.card_poll", poll=meeting.poll_id))
    lines += _answers(meeting, rsvps if named else (), attendance, t, window,
                      Counter(rsvp.answer for rsvp in rsvps))
    if meeting.status == CANCELLED:
        lines.append(t("meeting.card_cancel_reason",
                       reason=escape_markdown(meeting.cancel_reason) or t("meeting.no_reason")))
    text = "\n".join(lines)
    if meeting.description:
        text += "\n\n" + escape_markdown(meeting.description)
    if meeting.minutes:
        text += "\n\n" + t("meeting.card_minutes") + "\n\n" + minutes(meeting.minutes)
    if upcoming and meeting.status not in (CANCELLED, HELD):
        text += "\n\n" + how_to_answer(meeting, club, t)
    if meeting.status != CANCELLED:
        text += "\n\n" + t("meeting.card_ics", number=meeting.id, prefix=club.prefix)
    return text


def places_line(meeting: Meeting, taken: int, waiting: int, t: Translator) -> str:
    """« 12 inscrits sur 20 places, 8 libres, 3 en attente »."""
    capacity = meeting.capacity or 0
    return t("meeting.card_places", taken=taken, capacity=capacity,
             free=max(capacity - taken, 0), waiting=waiting)


def _answers(meeting: Meeting, rsvps: Sequence[MeetingRsvp],
             attendance: Sequence[MeetingAttendance], t: Translator, window: Window,
             counts: Counter[str]) -> list[str]:
    """The answers counted, the people of each answer named in ``rsvps`` on this page, who
    came."""
    by_answer: dict[str, list[str]] = {"present": [], "peutetre": [], "absent": [], WAITING: []}
    for rsvp in rsvps:
        by_answer.setdefault(rsvp.answer, []).append(rsvp.user_id)
    if meeting.capacity is not None:
        lines = [places_line(meeting, counts["present"], counts[WAITING], t)]
    else:
        lines = [t("meeting.card_answers", present=counts["present"],
                   maybe=counts["peutetre"], absent=counts["absent"])]
    shown = slice(window.offset, window.offset + window.size)
    for answer, people in by_answer.items():
        if people[shown]:
            lines.append("  " + t(f"meeting.card_answer_{answer}", names=names(people[shown], t)))
    came = [row.user_id for row in attendance]
    if (meeting.status == HELD or attendance) and (came[shown] or window.number == 1):
        lines.append(t("meeting.card_attendance", count=len(came), names=names(came[shown], t)))
    return lines


def _line(summary: MeetingSummary, club: Club, t: Translator, *, past: bool) -> str:
    meeting = summary.meeting
    head = t("meeting.list_line", heading=heading(meeting, club, t, group=False),
             when=when(meeting, club, t),
             territory=territory(meeting, t), place=where(meeting, t, PLACE_IN_LIST))
    if meeting.status == CANCELLED:
        return f"- ~~{head}~~ — {t('meeting.list_cancelled')}"
    if past:
        if meeting.status == HELD:
            return f"- {head} — " + t("meeting.list_held", count=summary.attended)
        return f"- {head} — " + t("meeting.list_not_recorded")
    answers = summary.answers
    if meeting.capacity is not None:
        return f"- {head} — " + places_line(meeting, answers.get("present", 0),
                                             answers.get(WAITING, 0), t)
    return f"- {head} — " + t("meeting.list_answers", present=answers.get("present", 0),
                               maybe=answers.get("peutetre", 0))


def listing(upcoming: Sequence[MeetingSummary], past: Sequence[MeetingSummary], club: Club,
            t: Translator) -> list[Section]:
    """``!rencontre liste``: upcoming ones soonest first, then the past ones, latest first."""
    if upcoming:
        sections = [Section([_line(s, club, t, past=False) for s in upcoming],
                            heading=t("meeting.list_upcoming", count=len(upcoming)))]
    else:
        sections = [Section([t("meeting.list_no_upcoming")])]
    if past:
        sections.append(Section([_line(s, club, t, past=True) for s in past],
                                heading=t("meeting.list_past", count=len(past))))
    return sections
