"""How rencontres look in the rooms: announcements, the card, the list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from commands.context import Club
from commands.dates import Slot, format_slot
from commands.i18n import Translator
from commands.meetings.calendar import place_url
from commands.meetings.vocabulary import CANCELLED, HELD, MEETING_STATUSES, MEETING_TERRITORIES
from commands.paging import Section, Window
from commands.text import escape_markdown, pill, shorten

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


def place(text: str, t: Translator, limit: int | None = None) -> str:
    """The place as Markdown: a bare link is clickable, anything else is escaped text."""
    if not text:
        return t("meeting.no_place")
    url = place_url(text)
    if url == text and limit is None:
        return f"<{url}>"
    return escape_markdown(shorten(text, limit) if limit else text)


def territory(meeting: Meeting, t: Translator) -> str:
    return MEETING_TERRITORIES.label(meeting.territory, t)


def _facts(meeting: Meeting, club: Club, t: Translator) -> dict[str, object]:
    return {"number": meeting.id, "club": club.name, "when": when(meeting, club, t),
            "place": place(meeting.place, t), "territory": territory(meeting, t),
            "prefix": club.prefix}


def announcement(meeting: Meeting, club: Club, t: Translator) -> str:
    """The message announcing a new rencontre in the rooms of its territory."""
    text = t("meeting.announce", **_facts(meeting, club, t))
    if meeting.poll_id is not None:
        text += "\n\n" + t("meeting.announce_poll", poll=meeting.poll_id)
    return "\n\n".join([text, t("meeting.how_to_answer", number=meeting.id, prefix=club.prefix),
                        t("meeting.announce_ics")])


def rescheduled(meeting: Meeting, old: Slot, club: Club, t: Translator) -> str:
    return t("meeting.moved_announce", old=format_slot(old, t.language, club.tz),
             **_facts(meeting, club, t))


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
         club: Club, t: Translator, *, upcoming: bool, window: Window) -> str:
    """``!rencontre info``: everything about one rencontre; ``window`` tells which of the
    people who answered (and came) are named, ``NAMES_SHOWN`` of each kind a page."""
    facts = _facts(meeting, club, t)
    lines = [t("meeting.card_title", number=meeting.id,
               status=MEETING_STATUSES.label(meeting.status, t)),
             t("meeting.card_when", when=facts["when"]),
             t("meeting.card_place", place=facts["place"]),
             t("meeting.card_territory", territory=facts["territory"])]
    if meeting.poll_id is not None:
        lines.append(t("meeting.card_poll", poll=meeting.poll_id))
    by_answer: dict[str, list[str]] = {"present": [], "peutetre": [], "absent": []}
    for rsvp in rsvps:
        by_answer.setdefault(rsvp.answer, []).append(rsvp.user_id)
    lines.append(t("meeting.card_answers", present=len(by_answer["present"]),
                   maybe=len(by_answer["peutetre"]), absent=len(by_answer["absent"])))
    shown = slice(window.offset, window.offset + window.size)
    for answer, people in by_answer.items():
        if people[shown]:
            lines.append("  " + t(f"meeting.card_answer_{answer}", names=names(people[shown], t)))
    came = [row.user_id for row in attendance]
    if (meeting.status == HELD or attendance) and (came[shown] or window.number == 1):
        lines.append(t("meeting.card_attendance", count=len(came), names=names(came[shown], t)))
    if meeting.status == CANCELLED:
        lines.append(t("meeting.card_cancel_reason",
                       reason=escape_markdown(meeting.cancel_reason) or t("meeting.no_reason")))
    text = "\n".join(lines)
    if meeting.minutes:
        text += "\n\n" + t("meeting.card_minutes") + "\n\n" + minutes(meeting.minutes)
    if upcoming and meeting.status not in (CANCELLED, HELD):
        text += "\n\n" + t("meeting.how_to_answer", number=meeting.id, prefix=club.prefix)
    if meeting.status != CANCELLED:
        text += "\n\n" + t("meeting.card_ics", number=meeting.id, prefix=club.prefix)
    return text


def _line(summary: MeetingSummary, club: Club, t: Translator, *, past: bool) -> str:
    meeting = summary.meeting
    head = t("meeting.list_line", number=meeting.id, when=when(meeting, club, t),
             territory=territory(meeting, t), place=place(meeting.place, t, PLACE_IN_LIST))
    if meeting.status == CANCELLED:
        return f"- ~~{head}~~ — {t('meeting.list_cancelled')}"
    if past:
        if meeting.status == HELD:
            return f"- {head} — " + t("meeting.list_held", count=summary.attended)
        return f"- {head} — " + t("meeting.list_not_recorded")
    answers = summary.answers
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
