"""commands.dates: French (and English) dates, times, slots, durations and recurrences.

Every ``now`` is fixed; no test reads the real clock. The reference ``NOW`` is Sunday
22 November 2026, 10:00 in Paris. Calendars used below:

    November 2026: Mon 23, Tue 24, … Fri 27, Sat 28, Sun 29, Mon 30; December: Tue 1, Thu 3.
    January 2027: Fri 1, Thu 14, Sat 16, Mon 18. March 2027: Wed 3, DST starts Sun 28 (02:00 →
    03:00). October 2027: DST ends Sun 31 (03:00 → 02:00). January 2025: Tue 14, Thu 16, Sat 18.
"""

from __future__ import annotations

import ast
import contextlib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commands.dates import (
    MAX_INPUT,
    PARIS,
    DateError,
    Recurrence,
    Slot,
    format_day,
    format_moment,
    format_month,
    format_short,
    format_slot,
    format_time,
    parse_duration,
    parse_moment,
    parse_recurrence,
    parse_slot,
    split_moment,
    split_recurrence,
    wall_clock,
)
from commands.errors import BadArgument
from commands.i18n import LANGUAGES, catalog, placeholders, translate


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Paris wall-clock time (gap and fall-back hour normalised like the module does)."""
    return wall_clock(datetime(year, month, day, hour, minute), PARIS)


NOW = at(2026, 11, 22, 10)  # Sunday
NOW_2024 = at(2024, 11, 24, 10)  # Sunday: January 2025 dates of the examples
NOW_2025 = at(2025, 11, 23, 10)  # Sunday: « jeudi 16 avril » (2026), « mercredi 3 décembre » (2025)
NOW_DEC = at(2026, 12, 28, 10)  # Monday, late December: year rollover
NOW_FRI = at(2026, 11, 27, 10)  # Friday morning
NOW_FRI_LATE = at(2026, 11, 27, 19)  # Friday evening

Y = 2027  # the year of January-to-November dates read from NOW


# --- slots -----------------------------------------------------------------------------------

SLOTS: list[tuple[str, datetime, datetime, datetime]] = [
    # The phrasings of the brief and of design.md, in a year where their weekday is right.
    ("mardi 14 janvier 18h30", NOW_2024, at(2025, 1, 14, 18, 30), at(2025, 1, 14, 20, 30)),
    ("14/01 18h30-20h", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20)),
    ("jeu 16/01 à 18h", NOW_2024, at(2025, 1, 16, 18), at(2025, 1, 16, 20)),
    ("samedi 18 janvier matin", NOW_2024, at(2025, 1, 18, 9), at(2025, 1, 18, 12)),
    ("jeudi 16 avril 18h", NOW_2025, at(2026, 4, 16, 18), at(2026, 4, 16, 20)),
    ("1er décembre 10h", NOW, at(2026, 12, 1, 10), at(2026, 12, 1, 12)),
    ("mercredi 3 décembre à 18 h 30", NOW_2025, at(2025, 12, 3, 18, 30), at(2025, 12, 3, 20, 30)),
    ("14/01/2027 18h30", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("14/01/27 18h30", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("2027-01-14 18:30", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("14 janv. 18h30", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("14 janvier 2027 de 18h à 20h", NOW, at(Y, 1, 14, 18), at(Y, 1, 14, 20)),
    ("mar. 14/01 18:30", NOW_2024, at(2025, 1, 14, 18, 30), at(2025, 1, 14, 20, 30)),
    ("vendredi 18h", NOW, at(2026, 11, 27, 18), at(2026, 11, 27, 20)),
    ("vendredi 18h", NOW_FRI, at(2026, 11, 27, 18), at(2026, 11, 27, 20)),
    ("vendredi 18h", NOW_FRI_LATE, at(2026, 12, 4, 18), at(2026, 12, 4, 20)),
    ("demain 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("après-demain 14h", NOW, at(2026, 11, 24, 14), at(2026, 11, 24, 16)),
    ("ce soir 20h", NOW, at(2026, 11, 22, 20), at(2026, 11, 22, 22)),
    ("aujourd'hui 18h", NOW, at(2026, 11, 22, 18), at(2026, 11, 22, 20)),
    ("lundi prochain 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("samedi 18 janvier après-midi", NOW_2024, at(2025, 1, 18, 14), at(2025, 1, 18, 17)),
    ("samedi 18 janvier journée", NOW_2024, at(2025, 1, 18, 9), at(2025, 1, 18, 17)),
    ("le 3 mars de 9h à 12h", NOW, at(Y, 3, 3, 9), at(Y, 3, 3, 12)),
    ("3/3 9h-12h30", NOW, at(Y, 3, 3, 9), at(Y, 3, 3, 12, 30)),
    ("18h30-20h le 14/01", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20)),
    ("tuesday jan 14 6:30pm", NOW_2024, at(2025, 1, 14, 18, 30), at(2025, 1, 14, 20, 30)),
    ("14 january 18:30", NOW, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("tomorrow 6pm", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    # Ways of writing a time.
    ("demain 18h30", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("demain 18 h 30", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("DEMAIN 18H30", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("demain à 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("demain vers 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("demain 18 heures", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("demain 18:30", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("demain 6:30pm", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("demain 9am", NOW, at(2026, 11, 23, 9), at(2026, 11, 23, 11)),
    ("demain, 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("demain midi", NOW, at(2026, 11, 23, 12), at(2026, 11, 23, 14)),
    ("demain minuit", NOW, at(2026, 11, 24, 0), at(2026, 11, 24, 2)),  # the end of tomorrow
    # Ranges.
    ("demain 18h30 - 20h", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20)),
    ("demain de 18h30 à 20h", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20)),
    ("demain 18h30–20h", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20)),
    ("demain 18h30 à 20h", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20)),
    ("demain entre 18h et 20h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("demain de midi à 14h", NOW, at(2026, 11, 23, 12), at(2026, 11, 23, 14)),
    ("tomorrow from 6pm to 8pm", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    # Parts of the day.
    ("demain matin", NOW, at(2026, 11, 23, 9), at(2026, 11, 23, 12)),
    ("demain dans la matinée", NOW, at(2026, 11, 23, 9), at(2026, 11, 23, 12)),
    ("demain aprem", NOW, at(2026, 11, 23, 14), at(2026, 11, 23, 17)),
    ("demain l'après-midi", NOW, at(2026, 11, 23, 14), at(2026, 11, 23, 17)),
    ("demain fin d'après-midi", NOW, at(2026, 11, 23, 17), at(2026, 11, 23, 19)),
    ("demain soir", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("demain en soirée", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),
    ("samedi toute la journée", NOW, at(2026, 11, 28, 9), at(2026, 11, 28, 17)),
    ("ce soir", NOW, at(2026, 11, 22, 18, 30), at(2026, 11, 22, 20, 30)),
    ("ce soir 8h", NOW, at(2026, 11, 22, 20), at(2026, 11, 22, 22)),
    ("samedi après-midi 3h-5h", NOW, at(2026, 11, 28, 15), at(2026, 11, 28, 17)),
    ("tomorrow morning", NOW, at(2026, 11, 23, 9), at(2026, 11, 23, 12)),
    # Weekdays, abbreviated or not, « prochain ».
    ("lun 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("mer. 18h", NOW, at(2026, 11, 25, 18), at(2026, 11, 25, 20)),
    ("jeu 18h", NOW, at(2026, 11, 26, 18), at(2026, 11, 26, 20)),
    ("sam 10h", NOW, at(2026, 11, 28, 10), at(2026, 11, 28, 12)),
    ("dim 10h", NOW, at(2026, 11, 29, 10), at(2026, 11, 29, 12)),  # today, but 10h is now
    ("dimanche 18h", NOW, at(2026, 11, 22, 18), at(2026, 11, 22, 20)),  # today, still ahead
    ("dimanche prochain 18h", NOW, at(2026, 11, 29, 18), at(2026, 11, 29, 20)),
    ("next friday 6pm", NOW, at(2026, 11, 27, 18), at(2026, 11, 27, 20)),
    ("lundi 14 à 18h", NOW, at(2026, 12, 14, 18), at(2026, 12, 14, 20)),
    ("le 25 à 18h", NOW, at(2026, 11, 25, 18), at(2026, 11, 25, 20)),
    ("jeudi 26 novembre de 18h30 à 20h", NOW, at(2026, 11, 26, 18, 30), at(2026, 11, 26, 20)),
    ("mardi 1er décembre midi", NOW, at(2026, 12, 1, 12), at(2026, 12, 1, 14)),
    ("le 1er décembre à 10h", NOW, at(2026, 12, 1, 10), at(2026, 12, 1, 12)),
    ("le 2 mars 18h", NOW, at(Y, 3, 2, 18), at(Y, 3, 2, 20)),
    ("le lundi 14 décembre 18h", NOW, at(2026, 12, 14, 18), at(2026, 12, 14, 20)),
    ("demain lundi 18h", NOW, at(2026, 11, 23, 18), at(2026, 11, 23, 20)),
    ("20h ce soir", NOW, at(2026, 11, 22, 20), at(2026, 11, 22, 22)),
    # Months, abbreviated, with or without dot and accents; a date before today is next year.
    ("14 fév 18h", NOW, at(Y, 2, 14, 18), at(Y, 2, 14, 20)),
    ("14 févr. 18h", NOW, at(Y, 2, 14, 18), at(Y, 2, 14, 20)),
    ("14 fevrier 18h", NOW, at(Y, 2, 14, 18), at(Y, 2, 14, 20)),
    ("3 avr 18h", NOW, at(Y, 4, 3, 18), at(Y, 4, 3, 20)),
    ("3 mai 18h", NOW, at(Y, 5, 3, 18), at(Y, 5, 3, 20)),
    ("3 juin 18h", NOW, at(Y, 6, 3, 18), at(Y, 6, 3, 20)),
    ("3 juil. 18h", NOW, at(Y, 7, 3, 18), at(Y, 7, 3, 20)),
    ("3 août 18h", NOW, at(Y, 8, 3, 18), at(Y, 8, 3, 20)),
    ("3 sept. 18h", NOW, at(Y, 9, 3, 18), at(Y, 9, 3, 20)),
    ("3 oct 18h", NOW, at(Y, 10, 3, 18), at(Y, 10, 3, 20)),
    ("3 nov 18h", NOW, at(Y, 11, 3, 18), at(Y, 11, 3, 20)),
    ("3 déc. 18h", NOW, at(2026, 12, 3, 18), at(2026, 12, 3, 20)),
    ("3 dec 18h", NOW, at(2026, 12, 3, 18), at(2026, 12, 3, 20)),
    ("22/11 18h", NOW, at(2026, 11, 22, 18), at(2026, 11, 22, 20)),  # today, still ahead
    ("14/01 18h30", NOW_DEC, at(Y, 1, 14, 18, 30), at(Y, 1, 14, 20, 30)),
    ("2/1 9h", NOW_DEC, at(Y, 1, 2, 9), at(Y, 1, 2, 11)),
    ("29/12 9h", NOW_DEC, at(2026, 12, 29, 9), at(2026, 12, 29, 11)),
    ("29/02 18h", at(Y, 3, 1, 10), at(2028, 2, 29, 18), at(2028, 2, 29, 20)),  # next February's
    ("18.30 demain", NOW, at(2026, 11, 23, 18, 30), at(2026, 11, 23, 20, 30)),  # 30: not a month
    # DST: wall-clock times; the gap moves forward, the ambiguous hour is its first occurrence.
    ("dimanche 28 mars 9h", NOW, at(Y, 3, 28, 9), at(Y, 3, 28, 11)),
    ("dimanche 28 mars 2h30", NOW, datetime(Y, 3, 28, 3, 30, tzinfo=PARIS),
     datetime(Y, 3, 28, 5, 30, tzinfo=PARIS)),
    ("dimanche 31 octobre 2h30", NOW, datetime(Y, 10, 31, 2, 30, tzinfo=PARIS),  # +02:00
     datetime(Y, 10, 31, 2, 30, tzinfo=UTC).astimezone(PARIS)),  # two real hours: 03:30 +01:00
]


@pytest.mark.parametrize(("text", "now", "start", "end"), SLOTS)
def test_parse_slot(text: str, now: datetime, start: datetime, end: datetime) -> None:
    slot = parse_slot(text, now=now, tz=PARIS)
    assert (slot.start, slot.end) == (start, end)
    assert slot.start.tzinfo is PARIS and slot.end.tzinfo is PARIS
    assert slot.duration == end - start


def test_there_are_enough_slot_phrasings() -> None:
    assert len({text for text, *_ in SLOTS}) >= 60


def test_gap_and_ambiguous_answers_in_utc() -> None:
    gap = parse_slot("dimanche 28 mars 2h30", now=NOW, tz=PARIS)
    assert gap.start.astimezone(UTC) == datetime(Y, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 +02:00
    assert gap.start.utcoffset() == timedelta(hours=2)
    ambiguous = parse_slot("dimanche 31 octobre 2h30", now=NOW, tz=PARIS)
    assert ambiguous.start.astimezone(UTC) == datetime(Y, 10, 31, 0, 30, tzinfo=UTC)  # first 02:30
    assert ambiguous.start.utcoffset() == timedelta(hours=2)
    # Two hours of real time later: 03:30 in winter time.
    assert ambiguous.end.astimezone(UTC) == datetime(Y, 10, 31, 2, 30, tzinfo=UTC)
    assert (ambiguous.end.hour, ambiguous.end.minute) == (3, 30)


def test_tomorrow_across_dst_is_the_same_wall_clock_time() -> None:
    before_spring = at(Y, 3, 27, 10)
    slot = parse_slot("demain 9h", now=before_spring, tz=PARIS)
    assert (slot.start.hour, slot.start.utcoffset()) == (9, timedelta(hours=2))
    assert before_spring.utcoffset() == timedelta(hours=1)
    before_autumn = at(Y, 10, 30, 10)
    slot = parse_slot("demain 9h", now=before_autumn, tz=PARIS)
    assert (slot.start.hour, slot.start.utcoffset()) == (9, timedelta(hours=1))


def test_default_duration_and_other_time_zones() -> None:
    slot = parse_slot("demain 18h", now=NOW, tz=PARIS, default_duration=timedelta(minutes=90))
    assert slot.end == at(2026, 11, 23, 19, 30)
    # ``now`` may be in any zone: the club's zone decides what « demain » is.
    slot = parse_slot("demain 18h", now=NOW.astimezone(ZoneInfo("America/New_York")), tz=PARIS)
    assert slot.start == at(2026, 11, 23, 18)
    montreal = ZoneInfo("America/Montreal")
    slot = parse_slot("demain 18h", now=NOW, tz=montreal)
    assert slot.start == datetime(2026, 11, 23, 18, tzinfo=montreal)
    assert slot.start.tzinfo is montreal


def test_slot_is_frozen() -> None:
    slot = Slot(NOW, NOW + timedelta(hours=1))
    with pytest.raises(AttributeError):
        slot.start = NOW  # type: ignore[misc]


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_slot("demain 18h", now=datetime(2026, 11, 22, 10), tz=PARIS)


# --- moments ---------------------------------------------------------------------------------

MOMENTS: list[tuple[str, datetime, datetime]] = [
    ("dans 2 jours", NOW, at(2026, 11, 24, 10)),
    ("dans 1 minute", NOW, at(2026, 11, 22, 10, 1)),
    ("dans 3 semaines", NOW, at(2026, 12, 13, 10)),
    ("dans 2 heures", NOW, at(2026, 11, 22, 12)),
    ("dans 1h30", NOW, at(2026, 11, 22, 11, 30)),
    ("dans 10 min", NOW, at(2026, 11, 22, 10, 10)),
    ("dans un mois", NOW, at(2026, 12, 22, 10)),
    ("dans une heure", NOW, at(2026, 11, 22, 11)),
    ("dans une demi-heure", NOW, at(2026, 11, 22, 10, 30)),
    ("dans 2 jours à 14h", NOW, at(2026, 11, 24, 14)),
    ("dans 1 semaine le soir", NOW, at(2026, 11, 29, 18, 30)),
    ("demain 9h", NOW, at(2026, 11, 23, 9)),
    ("demain", NOW, at(2026, 11, 23, 9)),
    ("demain matin", NOW, at(2026, 11, 23, 9)),
    ("demain midi", NOW, at(2026, 11, 23, 12)),
    ("demain soir", NOW, at(2026, 11, 23, 18, 30)),
    ("lundi prochain", NOW, at(2026, 11, 23, 9)),
    ("lundi", NOW, at(2026, 11, 23, 9)),
    ("dimanche", NOW, at(2026, 11, 29, 9)),  # today at 9:00 is past: next Sunday
    ("le 12/01 à 14h", NOW, at(Y, 1, 12, 14)),
    ("12/01", NOW, at(Y, 1, 12, 9)),
    ("1er décembre", NOW, at(2026, 12, 1, 9)),
    ("2027-01-14", NOW, at(Y, 1, 14, 9)),
    ("jeudi 14 janvier 2027 à 18h30", NOW, at(Y, 1, 14, 18, 30)),
    ("ce soir", NOW, at(2026, 11, 22, 18, 30)),
    ("cet après-midi", NOW, at(2026, 11, 22, 14)),
    ("18h", NOW, at(2026, 11, 22, 18)),  # a time alone: today…
    ("8h", NOW, at(2026, 11, 23, 8)),  # …or tomorrow when already past
    ("in 2 days", NOW, at(2026, 11, 24, 10)),
    ("tomorrow 9am", NOW, at(2026, 11, 23, 9)),
    ("next monday", NOW, at(2026, 11, 23, 9)),
    ("in 10 minutes", NOW, at(2026, 11, 22, 10, 10)),
    ("in an hour", NOW, at(2026, 11, 22, 11)),
    ("tonight", NOW, at(2026, 11, 22, 18, 30)),
    ("dans un mois", at(Y, 1, 31, 10), at(Y, 2, 28, 10)),  # calendar month (relativedelta)
    ("dans 1 minute", NOW + timedelta(seconds=30), at(2026, 11, 22, 10, 1) + timedelta(seconds=30)),
    ("lundi", at(2026, 11, 23, 8), at(2026, 11, 23, 9)),  # Monday before 9h: today
    ("lundi prochain", at(2026, 11, 23, 8), at(2026, 11, 30, 9)),  # « prochain »: not today
    ("demain 9h", at(Y, 3, 27, 10), at(Y, 3, 28, 9)),  # DST night: 09:00 +02:00
    ("dans 1 jour", at(Y, 3, 27, 10), at(Y, 3, 28, 10)),  # calendar day: 23 hours of real time
    ("dans 2 heures", at(Y, 3, 28, 1, 30), datetime(Y, 3, 28, 4, 30, tzinfo=PARIS)),  # elapsed
]


@pytest.mark.parametrize(("text", "now", "expected"), MOMENTS)
def test_parse_moment(text: str, now: datetime, expected: datetime) -> None:
    moment = parse_moment(text, now=now, tz=PARIS)
    assert moment == expected
    assert moment.tzinfo is PARIS
    assert (moment.hour, moment.minute) == (expected.hour, expected.minute)  # wall clock too


def test_there_are_enough_moment_phrasings() -> None:
    assert len({text for text, *_ in MOMENTS}) >= 30


def test_moment_default_time() -> None:
    assert parse_moment("demain", now=NOW, tz=PARIS, default_time=time(8, 15)) == at(2026, 11, 23, 8, 15)


SPLITS: list[tuple[str, datetime, str]] = [
    ("demain 9h appeler la mairie", at(2026, 11, 23, 9), "appeler la mairie"),
    ("dans 2 jours relancer Paul", at(2026, 11, 24, 10), "relancer Paul"),
    ("le 12/01 à 14h réunion vélo", at(Y, 1, 12, 14), "réunion vélo"),
    ("lundi prochain 9h préparer l'AG", at(2026, 11, 23, 9), "préparer l'AG"),
    ("demain matin", at(2026, 11, 23, 9), ""),
    ("demain matin acheter du pain", at(2026, 11, 23, 9), "acheter du pain"),
    ("demain 9h à la mairie", at(2026, 11, 23, 9), "à la mairie"),  # « à » not eaten
    ("demain le vélo", at(2026, 11, 23, 9), "le vélo"),  # « le » not eaten
    ("lundi 9h 3 chaises à rendre", at(2026, 11, 23, 9), "3 chaises à rendre"),
    ("18h30 apéro", at(2026, 11, 22, 18, 30), "apéro"),
    ("demain 18h jeu de société", at(2026, 11, 23, 18), "jeu de société"),  # not Thursday
    ("demain 9h sam passe chercher les clés", at(2026, 11, 23, 9), "sam passe chercher les clés"),
    ("demain 9h soirée crêpes à préparer", at(2026, 11, 23, 9), "soirée crêpes à préparer"),
    ("20h ce soir réunion", at(2026, 11, 22, 20), "réunion"),
    ("dans 10 min   sortir le compost  ", at(2026, 11, 22, 10, 10), "sortir le compost"),
    ("Demain 9H Appeler", at(2026, 11, 23, 9), "Appeler"),
    ("tomorrow 9am call the town hall", at(2026, 11, 23, 9), "call the town hall"),
    ("demain 9h " + "x" * 5000, at(2026, 11, 23, 9), "x" * 5000),  # a long text is fine
]


@pytest.mark.parametrize(("text", "moment", "rest"), SPLITS)
def test_split_moment(text: str, moment: datetime, rest: str) -> None:
    assert split_moment(text, now=NOW, tz=PARIS) == (moment, rest)


def test_split_moment_reports_what_is_wrong_with_the_longest_date() -> None:
    # Not silently read as « mardi » (next Tuesday) with « 14 janvier 18h30 réunion » as the text.
    with pytest.raises(DateError) as caught:
        split_moment("mardi 14 janvier 18h30 réunion", now=NOW, tz=PARIS)
    assert caught.value.message_key == "dates.weekday_mismatch"
    with pytest.raises(DateError) as caught:
        split_moment("demain 18h-20h réunion", now=NOW, tz=PARIS)
    assert caught.value.message_key == "dates.unparseable"


# --- refusals --------------------------------------------------------------------------------

REFUSALS: list[tuple[str, str, datetime, str]] = [
    ("slot", "", NOW, "dates.empty"),
    ("slot", "   ", NOW, "dates.empty"),
    ("slot", "x" * 10_000, NOW, "dates.too_long"),
    ("slot", "demain 18h " + "a" * MAX_INPUT, NOW, "dates.too_long"),
    ("slot", "<b>demain</b> 18h", NOW, "dates.unparseable"),
    ("slot", "📅 demain 18h", NOW, "dates.unparseable"),
    ("slot", "demain 18h 🎉", NOW, "dates.unparseable_rest"),
    ("slot", "@room demain 18h", NOW, "dates.unparseable"),
    ("slot", "n'importe quand", NOW, "dates.unparseable"),
    ("slot", "demain à", NOW, "dates.unparseable_rest"),
    ("slot", "demain 18h demain", NOW, "dates.unparseable_rest"),
    ("slot", "29/02 18h", NOW, "dates.not_leap_year"),  # next February has none: said, not moved
    ("slot", "mardi 14 janvier 18h30", NOW, "dates.weekday_mismatch"),
    ("slot", "jeudi 16 avril 18h", NOW, "dates.weekday_mismatch"),
    ("slot", "mercredi 3 décembre à 18 h 30", NOW, "dates.weekday_mismatch"),
    ("slot", "samedi 18 janvier matin", NOW, "dates.weekday_mismatch"),
    ("slot", "tuesday jan 14 6:30pm", NOW, "dates.weekday_mismatch"),
    ("slot", "31/02 18h", NOW, "dates.bad_date"),
    ("slot", "30 février 18h", NOW, "dates.bad_date"),
    ("slot", "32/01 18h", NOW, "dates.bad_date"),
    ("slot", "14/13 18h", NOW, "dates.bad_date"),
    ("slot", "29/02/2027 18h", NOW, "dates.not_leap_year"),
    ("slot", "demain 25h", NOW, "dates.bad_time"),
    ("slot", "demain 25h70", NOW, "dates.bad_time"),
    ("slot", "demain 18h75", NOW, "dates.bad_time"),
    ("slot", "demain 13pm", NOW, "dates.bad_time"),
    ("slot", "demain 20h-18h30", NOW, "dates.range_backwards"),
    ("slot", "demain 20h-20h", NOW, "dates.range_backwards"),
    ("slot", "demain", NOW, "dates.missing_time"),
    ("slot", "14/01", NOW, "dates.missing_time"),
    ("slot", "lundi prochain", NOW, "dates.missing_time"),
    ("slot", "18h", NOW, "dates.missing_date"),
    ("slot", "aujourd'hui 9h", NOW, "dates.in_past_closest"),  # tomorrow at 9h offered
    ("slot", "ce soir 20h", at(2026, 11, 22, 21), "dates.in_past_closest"),
    ("slot", "22/11 9h", NOW, "dates.in_past_closest"),  # today, already past: not next year
    ("slot", "14/01/2025 18h", NOW, "dates.in_past"),
    ("slot", "14/01/2030 18h", NOW, "dates.too_far"),
    ("moment", "dans 3 ans", NOW, "dates.too_far"),
    ("moment", "demain 18h-20h", NOW, "dates.unparseable"),
    ("moment", "dans 2 heures à 18h", NOW, "dates.unparseable_rest"),
    ("moment", "dans 0 minute", NOW, "dates.unparseable"),
    ("moment", "aujourd'hui", NOW, "dates.in_past_closest"),
    ("moment", "", NOW, "dates.empty"),
    ("split", "appeler la mairie demain", NOW, "dates.unparseable"),
    ("split", "   ", NOW, "dates.empty"),
    ("duration", "0 min", NOW, "dates.bad_duration"),
    ("duration", "13h", NOW, "dates.bad_duration"),
    ("duration", "1h75", NOW, "dates.bad_duration"),
    ("duration", "beaucoup", NOW, "dates.unparseable_duration"),
    ("duration", "", NOW, "dates.empty"),
    ("recurrence", "chaque 5e lundi du mois", NOW, "dates.unparseable_recurrence"),
    ("recurrence", "chaque mois le 31", NOW, "dates.bad_monthday"),
    ("recurrence", "chaque lundi 25h", NOW, "dates.bad_time"),
    ("recurrence", "parfois", NOW, "dates.unparseable_recurrence"),
    ("split_recurrence", "réunion chaque lundi", NOW, "dates.unparseable_recurrence"),
]


def _call(kind: str, text: str, now: datetime) -> object:
    if kind == "slot":
        return parse_slot(text, now=now, tz=PARIS)
    if kind == "moment":
        return parse_moment(text, now=now, tz=PARIS)
    if kind == "split":
        return split_moment(text, now=now, tz=PARIS)
    if kind == "duration":
        return parse_duration(text)
    if kind == "recurrence":
        return parse_recurrence(text, now=now, tz=PARIS)
    return split_recurrence(text, now=now, tz=PARIS)


@pytest.mark.parametrize(("kind", "text", "now", "key"), REFUSALS)
def test_refusals(kind: str, text: str, now: datetime, key: str) -> None:
    with pytest.raises(DateError) as caught:
        _call(kind, text, now)
    error = caught.value
    assert isinstance(error, BadArgument)
    assert error.message_key == key
    message = translate("fr", key, **error.values)
    assert message.strip()
    assert "`" in message  # examples of what works
    if text.strip():
        quoted = error.values["value"]
        assert isinstance(quoted, str) and quoted
        assert f"« {quoted}" in message
        assert quoted.rstrip("…") in " ".join(text.split())
    for language in LANGUAGES:
        assert translate(language, key, **error.values).strip()


def test_there_are_enough_refusals() -> None:
    assert len(REFUSALS) >= 25


def test_weekday_mismatch_names_the_real_weekday() -> None:
    with pytest.raises(DateError) as caught:
        parse_slot("mardi 14 janvier 18h30", now=NOW, tz=PARIS)
    message = translate("fr", caught.value.message_key, **caught.value.values)
    assert "le 14 janvier 2027 est un jeudi, pas un mardi" in message
    with pytest.raises(DateError) as caught:
        parse_slot("mardi 14 janvier 18h30", now=NOW, tz=PARIS, language="en")
    message = translate("en", caught.value.message_key, **caught.value.values)
    assert "14 January 2027 is a Thursday, not a Tuesday" in message
    # « vendredi 1er janvier » is right in 2027; the message for a wrong one says « 1er ».
    with pytest.raises(DateError) as caught:
        parse_slot("samedi 1er janvier 18h", now=NOW, tz=PARIS)
    assert caught.value.values["date"] == "1er janvier 2027"
    assert caught.value.values["weekday"] == "vendredi"


def test_a_refusal_says_what_was_understood() -> None:
    with pytest.raises(DateError) as caught:
        parse_slot("jeudi 18h au local", now=NOW, tz=PARIS)
    assert translate("fr", caught.value.message_key, **caught.value.values).startswith(
        "« jeudi 18h au local » : je comprends « jeudi 18h », mais pas « au local ».")


def test_in_past_says_when() -> None:
    with pytest.raises(DateError) as caught:
        parse_slot("aujourd'hui 9h", now=NOW, tz=PARIS)
    assert caught.value.values["when"] == "dimanche 22 novembre 2026 à 9h"


def test_every_key_raised_exists_with_its_placeholders() -> None:
    """Each ``DateError("dates.…", …)`` of the module: the key is in both catalogs and gets all it needs."""
    source_dir = Path(__file__).resolve().parents[2] / "commands" / "dates"
    uses = []
    for path in sorted(source_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "DateError" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                uses.append((str(node.args[0].value), {k.arg for k in node.keywords}))
    assert len(uses) >= 15
    for language in LANGUAGES:
        for key, keywords in uses:
            assert key in catalog(language), (language, key)
            assert placeholders(catalog(language)[key]) <= keywords, (language, key)
    dates_keys = {key for key in catalog("fr") if key.startswith("dates.")}
    assert dates_keys == {key for key, _ in uses}  # no message left unused


# --- durations -------------------------------------------------------------------------------

DURATIONS = [
    ("20min", timedelta(minutes=20)),
    ("20 min", timedelta(minutes=20)),
    ("1h30", timedelta(hours=1, minutes=30)),
    ("1 h 30", timedelta(hours=1, minutes=30)),
    ("2h", timedelta(hours=2)),
    ("90 minutes", timedelta(minutes=90)),
    ("1h", timedelta(hours=1)),
    ("45mn", timedelta(minutes=45)),
    ("1:30", timedelta(hours=1, minutes=30)),
    ("20 minutes", timedelta(minutes=20)),
    ("1 hour", timedelta(hours=1)),
    ("2 hours", timedelta(hours=2)),
    ("2 heures", timedelta(hours=2)),
    ("une heure", timedelta(hours=1)),
    ("1h et demie", timedelta(hours=1, minutes=30)),
    ("une demi-heure", timedelta(minutes=30)),
    ("1,5 h", timedelta(hours=1, minutes=30)),
    ("1h15min", timedelta(hours=1, minutes=15)),
    ("12h", timedelta(hours=12)),
    ("1 MIN", timedelta(minutes=1)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


# --- recurrences -----------------------------------------------------------------------------

RECURRENCES: list[tuple[str, str, list[datetime]]] = [
    ("chaque lundi 9h", "FREQ=WEEKLY;BYDAY=MO|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("tous les lundis à 9h", "FREQ=WEEKLY;BYDAY=MO|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("chaque 1er mardi du mois 18h", "FREQ=MONTHLY;BYDAY=1TU|18:00",
     [at(2026, 12, 1, 18), at(Y, 1, 5, 18), at(Y, 2, 2, 18)]),
    ("chaque premier mardi du mois à 18h", "FREQ=MONTHLY;BYDAY=1TU|18:00",
     [at(2026, 12, 1, 18), at(Y, 1, 5, 18), at(Y, 2, 2, 18)]),
    ("chaque dernier vendredi du mois 17h", "FREQ=MONTHLY;BYDAY=-1FR|17:00",
     [at(2026, 11, 27, 17), at(2026, 12, 25, 17), at(Y, 1, 29, 17)]),
    ("chaque 2e jeudi du mois 18h30", "FREQ=MONTHLY;BYDAY=2TH|18:30",
     [at(2026, 12, 10, 18, 30), at(Y, 1, 14, 18, 30), at(Y, 2, 11, 18, 30)]),
    ("tous les jours 8h30", "FREQ=DAILY|08:30",
     [at(2026, 11, 23, 8, 30), at(2026, 11, 24, 8, 30), at(2026, 11, 25, 8, 30)]),
    ("chaque jour 8h30", "FREQ=DAILY|08:30",
     [at(2026, 11, 23, 8, 30), at(2026, 11, 24, 8, 30), at(2026, 11, 25, 8, 30)]),
    ("tous les jours 18h", "FREQ=DAILY|18:00",
     [at(2026, 11, 22, 18), at(2026, 11, 23, 18), at(2026, 11, 24, 18)]),  # today still ahead
    ("chaque semaine lundi 9h", "FREQ=WEEKLY;BYDAY=MO|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("chaque mois le 15 à 10h", "FREQ=MONTHLY;BYMONTHDAY=15|10:00",
     [at(2026, 12, 15, 10), at(Y, 1, 15, 10), at(Y, 2, 15, 10)]),
    ("tous les 15 du mois 10h", "FREQ=MONTHLY;BYMONTHDAY=15|10:00",
     [at(2026, 12, 15, 10), at(Y, 1, 15, 10), at(Y, 2, 15, 10)]),
    ("le 15 de chaque mois à 10h", "FREQ=MONTHLY;BYMONTHDAY=15|10:00",
     [at(2026, 12, 15, 10), at(Y, 1, 15, 10), at(Y, 2, 15, 10)]),
    ("chaque dernier jour du mois 17h", "FREQ=MONTHLY;BYMONTHDAY=-1|17:00",
     [at(2026, 11, 30, 17), at(2026, 12, 31, 17), at(Y, 1, 31, 17)]),
    ("chaque lundi et jeudi 9h", "FREQ=WEEKLY;BYDAY=MO,TH|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 26, 9), at(2026, 11, 30, 9)]),
    ("chaque lundi, mercredi et vendredi à 18h", "FREQ=WEEKLY;BYDAY=MO,WE,FR|18:00",
     [at(2026, 11, 23, 18), at(2026, 11, 25, 18), at(2026, 11, 27, 18)]),
    ("chaque dimanche 10h", "FREQ=WEEKLY;BYDAY=SU|10:00",  # now is Sunday 10:00: strictly after
     [at(2026, 11, 29, 10), at(2026, 12, 6, 10), at(2026, 12, 13, 10)]),
    ("chaque lundi matin", "FREQ=WEEKLY;BYDAY=MO|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("chaque vendredi", "FREQ=WEEKLY;BYDAY=FR|09:00",
     [at(2026, 11, 27, 9), at(2026, 12, 4, 9), at(2026, 12, 11, 9)]),
    ("lundi 9h", "FREQ=WEEKLY;BYDAY=MO|09:00",  # the leading word is optional
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("every monday 9am", "FREQ=WEEKLY;BYDAY=MO|09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 30, 9), at(2026, 12, 7, 9)]),
    ("every day 8:30", "FREQ=DAILY|08:30",
     [at(2026, 11, 23, 8, 30), at(2026, 11, 24, 8, 30), at(2026, 11, 25, 8, 30)]),
    ("every first tuesday of the month 6pm", "FREQ=MONTHLY;BYDAY=1TU|18:00",
     [at(2026, 12, 1, 18), at(Y, 1, 5, 18), at(Y, 2, 2, 18)]),
    ("every last friday of the month at 5pm", "FREQ=MONTHLY;BYDAY=-1FR|17:00",
     [at(2026, 11, 27, 17), at(2026, 12, 25, 17), at(Y, 1, 29, 17)]),
]


@pytest.mark.parametrize(("text", "rule", "upcoming"), RECURRENCES)
def test_parse_recurrence(text: str, rule: str, upcoming: list[datetime]) -> None:
    recurrence = parse_recurrence(text, now=NOW, tz=PARIS)
    assert recurrence.to_rule() == rule
    assert Recurrence.from_rule(rule) == recurrence
    assert recurrence.occurrences(NOW, 3, PARIS) == upcoming
    assert all(moment.tzinfo is PARIS for moment in upcoming)


def test_there_are_enough_recurrences() -> None:
    assert len(RECURRENCES) >= 15


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [("chaque premier mardi du mois 18h", "chaque premier mardi du mois à 18h",
      "every first Tuesday of the month at 18:00"),
     ("chaque dernier vendredi du mois 17h30", "chaque dernier vendredi du mois à 17h30",
      "every last Friday of the month at 17:30"),
     ("chaque 2e jeudi du mois 18h", "chaque deuxième jeudi du mois à 18h",
      "every second Thursday of the month at 18:00"),
     ("tous les jours 8h30", "chaque jour à 8h30", "every day at 08:30"),
     ("chaque lundi 9h", "chaque lundi à 9h", "every Monday at 09:00"),
     ("chaque lundi et jeudi 9h", "chaque lundi et jeudi à 9h", "every Monday and Thursday at 09:00"),
     ("chaque mois le 15 à 10h", "chaque mois le 15 à 10h", "every month on the 15th at 10:00"),
     ("chaque mois le 1 à 10h", "chaque mois le 1er à 10h", "every month on the 1st at 10:00"),
     ("chaque dernier jour du mois 17h", "chaque dernier jour du mois à 17h",
      "every last day of the month at 17:00")],
)
def test_describe(text: str, french: str, english: str) -> None:
    recurrence = parse_recurrence(text, now=NOW, tz=PARIS)
    assert recurrence.describe("fr") == french
    assert recurrence.describe("en") == english


def test_recurrence_keeps_local_time_across_both_dst_changes() -> None:
    monday = parse_recurrence("chaque lundi 9h", now=NOW, tz=PARIS)
    spring = monday.occurrences(at(Y, 3, 20), 3, PARIS)  # DST starts Sunday 28 March
    assert [(d.month, d.day, d.hour, d.minute) for d in spring] == [(3, 22, 9, 0), (3, 29, 9, 0),
                                                                    (4, 5, 9, 0)]
    assert [d.utcoffset() for d in spring] == [timedelta(hours=1), timedelta(hours=2),
                                               timedelta(hours=2)]
    autumn = monday.occurrences(at(Y, 10, 24), 3, PARIS)  # DST ends Sunday 31 October
    assert [(d.month, d.day, d.hour) for d in autumn] == [(10, 25, 9), (11, 1, 9), (11, 8, 9)]
    assert [d.utcoffset() for d in autumn] == [timedelta(hours=2), timedelta(hours=1),
                                               timedelta(hours=1)]
    # Exactly a week apart on the wall clock, not in elapsed time.
    assert spring[1].astimezone(UTC) - spring[0].astimezone(UTC) == timedelta(days=7, hours=-1)
    assert autumn[1].astimezone(UTC) - autumn[0].astimezone(UTC) == timedelta(days=7, hours=1)


def test_recurrence_in_the_gap_and_in_the_repeated_hour() -> None:
    nightly = parse_recurrence("tous les jours 2h30", now=NOW, tz=PARIS)
    spring = nightly.occurrences(at(Y, 3, 27), 3, PARIS)
    assert spring == [datetime(Y, 3, 27, 2, 30, tzinfo=PARIS), datetime(Y, 3, 28, 3, 30, tzinfo=PARIS),
                      datetime(Y, 3, 29, 2, 30, tzinfo=PARIS)]
    autumn = nightly.occurrences(at(Y, 10, 30), 3, PARIS)
    assert [d.astimezone(UTC) for d in autumn] == [datetime(Y, 10, 30, 0, 30, tzinfo=UTC),
                                                   datetime(Y, 10, 31, 0, 30, tzinfo=UTC),
                                                   datetime(Y, 11, 1, 1, 30, tzinfo=UTC)]


def test_comparisons_are_between_instants_in_the_repeated_hour() -> None:
    # Datetimes sharing a tzinfo compare by wall clock: 02:45 +02:00 would look after 02:30 +01:00.
    second_half_past_two = datetime(Y, 10, 31, 1, 30, tzinfo=UTC).astimezone(PARIS)
    assert (second_half_past_two.hour, second_half_past_two.fold) == (2, 1)
    nightly = parse_recurrence("tous les jours 2h45", now=NOW, tz=PARIS)
    assert nightly.next_after(second_half_past_two, PARIS) == at(Y, 11, 1, 2, 45)
    with pytest.raises(DateError) as caught:
        parse_slot("aujourd'hui 2h45", now=second_half_past_two, tz=PARIS)
    assert caught.value.message_key == "dates.in_past_closest"
    later = parse_moment("dans 10 min", now=second_half_past_two, tz=PARIS)
    assert later.astimezone(UTC) == datetime(Y, 10, 31, 1, 40, tzinfo=UTC)


def test_next_after_is_strictly_after_and_accepts_any_zone() -> None:
    monday = parse_recurrence("chaque lundi 9h", now=NOW, tz=PARIS)
    first = at(2026, 11, 23, 9)
    assert monday.next_after(first, PARIS) == at(2026, 11, 30, 9)
    assert monday.next_after(first - timedelta(microseconds=1), PARIS) == first
    assert monday.next_after(first.astimezone(UTC), PARIS) == at(2026, 11, 30, 9)


SPLIT_RECURRENCES = [
    ("chaque lundi 9h préparer l'AG", "FREQ=WEEKLY;BYDAY=MO|09:00", "préparer l'AG"),
    ("tous les jours 8h30 arroser les semis", "FREQ=DAILY|08:30", "arroser les semis"),
    ("chaque premier mardi du mois à 18h réunion du bureau", "FREQ=MONTHLY;BYDAY=1TU|18:00",
     "réunion du bureau"),
    ("chaque lundi relancer", "FREQ=WEEKLY;BYDAY=MO|09:00", "relancer"),
    ("every monday 9am weekly call", "FREQ=WEEKLY;BYDAY=MO|09:00", "weekly call"),
    ("chaque mois le 15 à 10h compte rendu", "FREQ=MONTHLY;BYMONTHDAY=15|10:00", "compte rendu"),
]


@pytest.mark.parametrize(("text", "rule", "rest"), SPLIT_RECURRENCES)
def test_split_recurrence(text: str, rule: str, rest: str) -> None:
    recurrence, remaining = split_recurrence(text, now=NOW, tz=PARIS)
    assert (recurrence.to_rule(), remaining) == (rule, rest)


@pytest.mark.parametrize(
    "rule",
    ["", "FREQ=YEARLY|09:00", "FREQ=WEEKLY|09:00", "FREQ=WEEKLY;BYDAY=XX|09:00",
     "FREQ=DAILY|25:00", "FREQ=MONTHLY;BYMONTHDAY=31|09:00", "FREQ=MONTHLY;BYDAY=5MO|09:00",
     "FREQ=DAILY;BYDAY=MO|09:00", "FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYDAY=1MO,TU|09:00",
     "FREQ=YEARLY|09:00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29|09:00",
     "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=3|09:00", "FREQ=YEARLY;BYMONTH=13;BYMONTHDAY=1|09:00"],
)
def test_from_rule_refuses_what_to_rule_never_writes(rule: str) -> None:
    with pytest.raises(ValueError):
        Recurrence.from_rule(rule)


# --- formatting ------------------------------------------------------------------------------

EVENING = at(Y, 1, 14, 18, 30)


def test_formatting_french_and_english() -> None:
    assert format_day(EVENING, "fr") == "jeudi 14 janvier 2027"
    assert format_day(EVENING, "en") == "Thursday 14 January 2027"
    assert format_day(at(2027, 5, 1, 9), "fr") == "samedi 1er mai 2027"
    assert format_time(EVENING) == "18h30"
    assert format_time(at(Y, 1, 14, 18)) == "18h"
    assert format_time(at(Y, 1, 14, 9, 5)) == "9h05"
    assert format_time(EVENING, "en") == "18:30"
    assert format_time(at(Y, 1, 14, 9, 5), "en") == "09:05"
    assert format_moment(EVENING, "fr") == "jeudi 14 janvier 2027 à 18h30"
    assert format_moment(EVENING, "en") == "Thursday 14 January 2027 at 18:30"
    slot = Slot(EVENING, at(Y, 1, 14, 20, 30))
    assert format_slot(slot, "fr") == "jeudi 14 janvier 2027, 18h30–20h30"
    assert format_slot(slot, "en") == "Thursday 14 January 2027, 18:30–20:30"
    late = Slot(at(Y, 1, 14, 23), at(Y, 1, 15, 1))
    assert format_slot(late, "fr") == "jeudi 14 janvier 2027, 23h – vendredi 15 janvier 2027 à 1h"
    assert format_short(EVENING, "fr") == "14/01 18h30"
    assert format_short(EVENING, "en") == "14/01 18:30"
    assert format_month(EVENING, "fr") == "janvier 2027"
    assert format_month(at(2027, 8, 31, 23, 30).astimezone(UTC)) == "août 2027"  # in Paris
    assert format_month(EVENING, "en") == "January 2027"


def test_formatting_converts_to_the_given_zone() -> None:
    in_utc = EVENING.astimezone(UTC)
    assert format_moment(in_utc, "fr", PARIS) == "jeudi 14 janvier 2027 à 18h30"
    assert format_time(in_utc, "fr", ZoneInfo("America/Montreal")) == "12h30"
    with pytest.raises(ValueError):
        format_day(datetime(2027, 1, 14), "fr")


# --- properties ------------------------------------------------------------------------------

FIRST = NOW + timedelta(minutes=1)
SPAN_MINUTES = int((at(2028, 11, 1) - FIRST).total_seconds() // 60)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=SPAN_MINUTES), st.sampled_from(["fr", "en"]))
def test_format_moment_round_trips_through_parse_moment(minutes: int, language: str) -> None:
    instant = (FIRST.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(PARIS)
    assume(instant.fold == 0)  # the second 02:30 of an October night cannot be told apart in words
    text = format_moment(instant, language)
    assert parse_moment(text, now=NOW, tz=PARIS) == instant, text


WORDS = ["lundi", "mardi", "mar.", "demain", "ce", "soir", "matin", "le", "à", "de", "-", "–",
         "18h", "18h30", "18", "h", "30", "14/01", "14", "janvier", "janv.", "2027", "dans", "2",
         "jours", "min", "prochain", "1er", "midi", "minuit", "pm", "6:30pm", "et", "chaque",
         "du", "mois", "dernier", "25h70", "31/02", ",", "'", "l'après-midi", "entre", "tous", "les"]


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=250),
                 st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)))
def test_readers_only_ever_raise_date_errors(text: str) -> None:
    for kind in ("slot", "moment", "split", "duration", "recurrence", "split_recurrence"):
        try:
            _call(kind, text, NOW)
        except DateError as error:
            assert error.message_key in catalog("fr")
            assert translate("fr", error.message_key, **error.values)


@settings(max_examples=100)
@given(st.text(alphabet="0123456789 h:-/aàdeltmins", max_size=MAX_INPUT))
def test_no_catastrophic_backtracking_on_date_like_noise(text: str) -> None:
    # Runs under hypothesis's per-example deadline: a regex that backtracks exponentially fails it.
    for kind in ("slot", "moment", "split", "duration", "recurrence"):
        with contextlib.suppress(DateError):
            _call(kind, text, NOW)


@given(st.sampled_from([text for text, *_ in RECURRENCES]))
def test_recurrence_rule_round_trip(text: str) -> None:
    recurrence = parse_recurrence(text, now=NOW, tz=PARIS)
    assert Recurrence.from_rule(recurrence.to_rule()) == recurrence


# --- repetitions every N days, weeks or months -----------------------------------------------

@pytest.mark.parametrize(("text", "rule", "french", "english", "upcoming"), [
    ("tous les 15 jours à 18h", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;DTSTART=20261122|18:00",
     "un dimanche sur deux à 18h", "every other Sunday at 18:00",
     [at(2026, 11, 22, 18), at(2026, 12, 6, 18), at(2026, 12, 20, 18)]),
    ("toutes les 3 semaines le lundi et jeudi", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH;DTSTART=20261123|09:00",
     "toutes les 3 semaines, chaque lundi et jeudi à 9h", "every 3 weeks on Monday and Thursday at 09:00",
     [at(2026, 11, 23, 9), at(2026, 11, 26, 9), at(2026, 12, 14, 9)]),
    ("tous les 3 jours 8h", "FREQ=DAILY;INTERVAL=3;DTSTART=20261123|08:00", "tous les 3 jours à 8h",
     "every 3 days at 08:00", [at(2026, 11, 23, 8), at(2026, 11, 26, 8), at(2026, 11, 29, 8)]),
    ("tous les deux mois le 31", None, None, None, None),
    ("tous les deux mois le 15", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15;DTSTART=20261215|09:00",
     "tous les 2 mois le 15 à 9h", "every 2 months on the 15th at 09:00",
     [at(2026, 12, 15, 9), at(Y, 2, 15, 9), at(Y, 4, 15, 9)]),
    ("du lundi au vendredi 8h", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR|08:00",
     "chaque jour du lundi au vendredi à 8h", "every day from Monday to Friday at 08:00",
     [at(2026, 11, 23, 8), at(2026, 11, 24, 8), at(2026, 11, 25, 8)]),
])
def test_intervals_are_counted_from_the_first_occurrence(
        text: str, rule: str | None, french: str | None, english: str | None,
        upcoming: list[datetime] | None) -> None:
    if rule is None:
        with pytest.raises(DateError) as caught:
            parse_recurrence(text, now=NOW, tz=PARIS)
        assert caught.value.message_key == "dates.bad_monthday"
        return
    recurrence = parse_recurrence(text, now=NOW, tz=PARIS)
    assert recurrence.to_rule() == rule
    assert Recurrence.from_rule(rule) == recurrence
    assert (recurrence.describe("fr"), recurrence.describe("en")) == (french, english)
    assert recurrence.occurrences(NOW, 3, PARIS) == upcoming
    # Asked again months later, the count still starts from the first occurrence.
    later = recurrence.occurrences(at(Y, 6, 1), 1, PARIS)[0]
    assert later in recurrence.occurrences(NOW, 200, PARIS)


def test_a_day_of_the_year() -> None:
    recurrence = parse_recurrence("chaque année le 1er mai 10h", now=NOW, tz=PARIS)
    assert recurrence.to_rule() == "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=1|10:00"
    assert Recurrence.from_rule(recurrence.to_rule()) == recurrence
    assert (recurrence.describe("fr"), recurrence.describe("en")) == (
        "chaque année le 1er mai à 10h", "every year on 1 May at 10:00")
    assert recurrence.occurrences(NOW, 2, PARIS) == [at(Y, 5, 1, 10), at(2028, 5, 1, 10)]


def test_an_interval_needs_its_anchor() -> None:
    with pytest.raises(ValueError):
        Recurrence("DAILY", time(9), interval=2)
    with pytest.raises(ValueError):
        Recurrence.from_rule("FREQ=DAILY;INTERVAL=2|09:00")
