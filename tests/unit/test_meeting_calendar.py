"""The ``.ics`` of a rencontre: parses, wall-clock times in Paris across DST, UID, SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from commands.context import Club
from commands.i18n import Translator
from commands.meetings import meeting_ics
from storage.models import Meeting

PARIS = ZoneInfo("Europe/Paris")
CLUB = Club(name="Club Climat et Transition", prefix="!", language="fr",
            timezone="Europe/Paris", charter="", welcome_message="", version="0")
FR = Translator("fr")


def meeting(start: datetime, *, hours: int = 2, place: str = "Salle des fêtes, Embrun",
            territory: str = "nord", status: str = "prevue", sequence: int = 0,
            reason: str = "") -> Meeting:
    """A meeting as stored: ``start`` is local Paris time, kept in UTC like the database."""
    utc = start.replace(tzinfo=PARIS).astimezone(UTC)
    return Meeting(id=7, kind="rencontre", title="", description="", link="",
                   starts_at=utc, ends_at=utc + timedelta(hours=hours), place=place,
                   territory=territory, status=status, poll_id=None, sequence=sequence,
                   minutes="", cancel_reason=reason, rooms="[]", created_by="@claire:x",
                   created_at=datetime(2026, 11, 1, tzinfo=UTC),
                   updated_at=datetime(2026, 11, 2, 8, 30, tzinfo=UTC))


def parse(data: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(data)
    return calendar, calendar.walk("VEVENT")[0]


@pytest.mark.parametrize(("local", "offset"), [
    (datetime(2027, 1, 14, 18, 30), timedelta(hours=1)),    # winter
    (datetime(2027, 7, 1, 18, 0), timedelta(hours=2)),      # summer
    (datetime(2027, 3, 28, 10, 0), timedelta(hours=2)),     # the morning clocks go forward
    (datetime(2027, 10, 31, 10, 0), timedelta(hours=1)),    # the morning clocks go back
    (datetime(2027, 3, 27, 10, 0), timedelta(hours=1)),     # the day before
    (datetime(2027, 10, 30, 10, 0), timedelta(hours=2)),
    (datetime(2099, 1, 8, 18, 30), timedelta(hours=1)),     # after 2037 too
])
def test_start_is_the_wall_clock_time_in_paris(local: datetime, offset: timedelta) -> None:
    data = meeting_ics(meeting(local), CLUB, FR, PARIS)
    stamp = local.strftime("%Y%m%dT%H%M%S")
    assert f"DTSTART;TZID=Europe/Paris:{stamp}".encode() in data
    calendar, event = parse(data)
    start = event.decoded("dtstart")
    assert start.replace(tzinfo=None) == local and start.utcoffset() == offset
    end = event.decoded("dtend")
    assert end - start == timedelta(hours=2)
    # The VTIMEZONE in the file says the same thing as the time zone database.
    [timezone] = calendar.timezones
    assert timezone.tz_name == "Europe/Paris"
    assert local.replace(tzinfo=timezone.to_tz()).utcoffset() == offset


def test_the_fields_of_a_planned_meeting() -> None:
    calendar, event = parse(meeting_ics(meeting(datetime(2027, 1, 14, 18, 30)), CLUB, FR, PARIS))
    assert str(calendar["version"]) == "2.0" and str(calendar["method"]) == "PUBLISH"
    assert "cct-bot" in str(calendar["prodid"])
    assert str(event["uid"]) == "rencontre-7@cct-bot"
    assert event["sequence"] == 0
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "Rencontre du Club Climat et Transition — nord"
    assert str(event["location"]) == "Salle des fêtes, Embrun"
    assert "Rencontre du club n°7" in str(event["description"])
    assert event.decoded("dtstamp") == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert "url" not in event


def test_a_video_link_is_the_url_too() -> None:
    place = "En visio : https://meet.jit.si/cct-nord."
    _, event = parse(meeting_ics(meeting(datetime(2027, 1, 14, 18), place=place), CLUB, FR, PARIS))
    assert str(event["location"]) == place
    assert str(event["url"]) == "https://meet.jit.si/cct-nord"


def test_uid_stays_and_sequence_grows_when_moved() -> None:
    first = meeting(datetime(2027, 1, 14, 18))
    moved = meeting(datetime(2027, 1, 15, 18, 30), sequence=1)
    _, before = parse(meeting_ics(first, CLUB, FR, PARIS))
    _, after = parse(meeting_ics(moved, CLUB, FR, PARIS))
    assert str(before["uid"]) == str(after["uid"])
    assert (before["sequence"], after["sequence"]) == (0, 1)


def test_a_cancelled_meeting() -> None:
    cancelled = meeting(datetime(2027, 1, 14, 18), status="annulee", sequence=2,
                        reason="Tempête ; routes fermées")
    calendar, event = parse(meeting_ics(cancelled, CLUB, FR, PARIS))
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED" and event["sequence"] == 2
    assert "Tempête ; routes fermées" in str(event["description"])


def test_english_and_a_joint_meeting() -> None:
    data = meeting_ics(meeting(datetime(2027, 1, 14, 18), territory="commun"), CLUB,
                       Translator("en"), PARIS)
    _, event = parse(data)
    assert str(event["summary"]) == ("Meeting of the Club Climat et Transition — "
                                     "joint (north and south)")


def test_special_characters_survive_a_second_round_trip() -> None:
    place = "Mairie, 1er étage; salle \"Écrins\" \\ entrée\nà droite"
    data = meeting_ics(meeting(datetime(2027, 10, 31, 10), place=place), CLUB, FR, PARIS)
    calendar, event = parse(data)
    assert str(event["location"]) == place
    again = Calendar.from_ical(calendar.to_ical())
    assert again == calendar
    assert again.to_ical() == calendar.to_ical()
    assert b"\r\n" in data and all(len(line) <= 75 for line in data.split(b"\r\n"))
