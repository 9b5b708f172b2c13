"""Shared pieces of the date layer: the error, the slot, text normalising, the word lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands.errors import BadArgument
from commands.text import fold, shorten

PARIS = ZoneInfo("Europe/Paris")
MAX_INPUT = 200
"""Longer date texts are refused before any regular expression sees them."""


class DateError(BadArgument):
    """A date, time, duration or recurrence the user wrote that we cannot accept."""

    key = "dates.unparseable"


@dataclass(frozen=True)
class Slot:
    """A candidate meeting time: aware ``start`` and ``end`` in the club's time zone."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def quoted(text: str) -> str:
    """The user's text as quoted back in a message (one line, at most 60 characters)."""
    return shorten(" ".join(text.split()), 60)


def check_length(text: str) -> None:
    if not text.strip():
        raise DateError("dates.empty")
    if len(text) > MAX_INPUT:
        raise DateError("dates.too_long", value=quoted(text), maximum=MAX_INPUT)


_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "´": "'",
                              "–": "-", "—": "-", "−": "-", "‐": "-", "‑": "-", "‒": "-"})


def normalize(text: str) -> str:
    """Folded (lower case, no accents), one kind of apostrophe and dash, single spaces."""
    return " ".join(fold(text).translate(_APOSTROPHES).split())


def aware_now(now: datetime, tz: ZoneInfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(tz)


def is_after(a: datetime, b: datetime) -> bool:
    """``a > b`` as instants. Plain ``>`` compares wall-clock times when both share a tzinfo, so
    it would get the repeated hour of a fall-back night wrong (02:45 +02:00 is before 02:30 +01:00).
    """
    return a.astimezone(UTC) > b.astimezone(UTC)


def wall_clock(naive: datetime, tz: ZoneInfo) -> datetime:
    """The aware datetime for a local wall-clock time, deterministic across DST changes.

    A time in the spring-forward gap (02:30 on the last Sunday of March in Paris) moves forward by
    the size of the gap (03:30); an ambiguous time in the fall-back hour is its first occurrence
    (02:30 +02:00). This is ``fold=0`` normalised through UTC.
    """
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


# Words, folded. Weekdays: 0 = Monday.
WEEKDAY_WORDS: dict[str, int] = {
    "lundi": 0, "lun": 0, "monday": 0, "mon": 0,
    "mardi": 1, "mar": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "mercredi": 2, "mer": 2, "wednesday": 2, "wed": 2,
    "jeudi": 3, "jeu": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "vendredi": 4, "ven": 4, "friday": 4, "fri": 4,
    "samedi": 5, "sam": 5, "saturday": 5, "sat": 5,
    "dimanche": 6, "dim": 6, "sunday": 6, "sun": 6,
}
MONTH_WORDS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}
WEEKDAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of words, longest first (so that ``mars`` is tried before ``mar``)."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


WEEKDAY_RE = alternation(WEEKDAY_WORDS)
MONTH_RE = alternation(MONTH_WORDS)

# Parts of the day: (start, end). See the module docstring of commands.dates.
PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "matin": (time(9, 0), time(12, 0)),
    "fin de matinee": (time(11, 0), time(12, 0)),
    "midi": (time(12, 0), time(14, 0)),
    "debut d'apres-midi": (time(14, 0), time(16, 0)),
    "apres-midi": (time(14, 0), time(17, 0)),
    "fin d'apres-midi": (time(17, 0), time(19, 0)),
    "soir": (time(18, 30), time(20, 30)),
    "debut de soiree": (time(18, 0), time(20, 0)),
    "fin de soiree": (time(21, 0), time(23, 0)),
    "journee": (time(9, 0), time(17, 0)),
}
PART_WORDS: dict[str, str] = {
    "matin": "matin", "matinee": "matin", "morning": "matin",
    "midi": "midi", "noon": "midi",
    "apres-midi": "apres-midi", "apres midi": "apres-midi", "aprem": "apres-midi",
    "afternoon": "apres-midi",
    "fin d'apres-midi": "fin d'apres-midi", "fin d'apres midi": "fin d'apres-midi",
    "fin d'aprem": "fin d'apres-midi", "late afternoon": "fin d'apres-midi",
    "soir": "soir", "soiree": "soir", "evening": "soir", "tonight": "soir",
    "fin de journee": "fin d'apres-midi",
    "fin de matinee": "fin de matinee", "fin de mat": "fin de matinee",
    "debut d'apres-midi": "debut d'apres-midi", "debut d'apres midi": "debut d'apres-midi",
    "debut d'aprem": "debut d'apres-midi",
    "debut de soiree": "debut de soiree", "fin de soiree": "fin de soiree",
    "journee": "journee", "toute la journee": "journee", "all day": "journee",
}
PART_RE = alternation(PART_WORDS)
AFTERNOON_PARTS = frozenset({"apres-midi", "debut d'apres-midi", "fin d'apres-midi", "soir",
                             "debut de soiree", "fin de soiree"})

# A clock time as written: 18h, 18h30, 18 h 30, 18 heures, 18:30, 6pm, 6:30 pm, midi, minuit,
# 18h et demie, midi et quart, 8h du soir, 9h du matin. « 8h 30 min de yoga » is 8h: minutes
# after a space are not minutes when a unit follows them.
QUANTITY = (r"(?:min|mins|mn|minutes?|m|secondes?|sec|s|km|kg|ans?|euros?|eur|personnes?|pers"
             r"|places?|jours?|fois|tours?|pages?|participants?|inscrits?|€|chaises?|tables?|litres?|l|g|cm|m2)")
SPOKEN = r"(?: et (?:demie?|quart)| moins (?:le )?quart)"
MERIDIEM = (r"(?: (?:du matin|du mat|du soir|de l'apres-midi|de l'apres midi|de l'aprem|de la nuit"
             r"|in the morning|in the evening|in the afternoon|at night))")
TIME_RE = (rf"(?:(?:\d{{1,2}} ?(?:heures?|h)(?:\d{{2}}| ?\d{{2}}(?! ?{QUANTITY}(?![a-z]))|{SPOKEN})?"
           rf"|\d{{1,2}} ?: ?\d{{2}}(?: ?[ap]\.?m\.?)?|\d{{1,2}} ?[ap]\.?m\.?"
           rf"|(?:midi|minuit){SPOKEN}?|noon|midnight){MERIDIEM}?)")
_TIME_PARTS = re.compile(
    r"(?P<h>\d{1,2})(?: ?(?:heures?|h) ?(?P<m>\d{2})?| ?: ?(?P<m2>\d{2}))?(?: ?(?P<ampm>[ap])\.?m\.?)?",
    re.ASCII)
_NAMED_TIMES = {"midi": (12, 0), "noon": (12, 0), "minuit": (24, 0), "midnight": (24, 0)}
_AFTERNOON_WORDS = ("du soir", "de l'apres", "de l'aprem", "in the evening", "in the afternoon")


def time_value(text: str) -> tuple[int, int]:
    """(hour, minute) as written, not yet checked (``25h70`` → (25, 70)); am/pm, « du soir »,
    « et demie » applied. Midnight is (24, 0): the end of the day it is written with."""
    meridiem = re.search(MERIDIEM + "$", text)
    if meridiem:
        text = text[:meridiem.start()]
    spoken = re.search(SPOKEN + "$", text)
    shift = 0
    if spoken:
        word = spoken[0]
        shift = 30 if "demi" in word else (15 if " et " in word else -15)
        text = text[:spoken.start()]
    if text in _NAMED_TIMES:
        hour, minute = _NAMED_TIMES[text]
    else:
        match = _TIME_PARTS.fullmatch(text)
        if match is None:  # pragma: no cover - TIME_RE and _TIME_PARTS agree
            raise ValueError(text)
        hour = int(match["h"])
        minute = int(match["m"] or match["m2"] or 0)
        if match["ampm"]:
            if not 1 <= hour <= 12:  # 13pm, 0am: refused as a bad time
                return 99, minute
            hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
    if meridiem and meridiem[0].strip().startswith(_AFTERNOON_WORDS) and 1 <= hour <= 11:
        hour += 12  # « 8h du soir »
    if shift:
        if minute:  # « 18h30 et demie »
            return 99, minute
        total = hour * 60 + shift
        hour, minute = divmod(total, 60)
    return hour, minute
