"""Dates written for people, in French (``fr_FR``) or English (``en_GB``), with babel.

French: « mardi 14 janvier 2027 à 18h30 », whole hours as « 18h », the first of the month as
« 1er ». English: "Thursday 14 January 2027 at 18:30". Every function takes an aware datetime and
shows it in ``tz`` (Europe/Paris unless told otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date

from commands.dates._common import PARIS, Slot

_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@cache
def babel_locale(language: str) -> Locale:
    """babel's locale of one of the bot's languages (French unless English), parsed once:
    given by name, babel parses it again at each call (a third of a date's formatting)."""
    return Locale.parse(_LOCALES.get(language, "fr_FR"))


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return dt.astimezone(tz)


def format_day(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """« jeudi 14 janvier 2027 », « samedi 1er mai 2027 », "Thursday 14 January 2027"."""
    local = _local(dt, tz)
    weekday = format_date(local.date(), 'EEEE', locale=babel_locale(language))
    return f"{weekday} {day_and_month(dt, language, tz)}"


def day_and_month(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """The day without its weekday: « 14 janvier 2027 », « 1er mai 2027 », "14 January 2027"."""
    local = _local(dt, tz)
    locale = babel_locale(language)
    day = "1er" if local.day == 1 and locale.language == "fr" else str(local.day)
    return f"{day} {format_date(local.date(), 'MMMM', locale=locale)} {local.year}"


def format_month(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """The month and its year: « janvier 2027 », "January 2027"."""
    return format_date(_local(dt, tz).date(), "LLLL y", locale=babel_locale(language))


def format_weekday_day(day: date, language: str = "fr") -> str:
    """A day offered in a question, without its year: « jeudi 15 avril », "Thursday 15 April"."""
    locale = babel_locale(language)
    number = "1er" if day.day == 1 and locale.language == "fr" else str(day.day)
    return (f"{format_date(day, 'EEEE', locale=locale)} {number} "
            f"{format_date(day, 'MMMM', locale=locale)}")


def format_day_of_year(month: int, day: int, language: str = "fr") -> str:
    """« 15 mars », « 1er mai », "15 March" (a day that comes back every year)."""
    locale = babel_locale(language)
    number = "1er" if day == 1 and locale.language == "fr" else str(day)
    return f"{number} {format_date(date(2000, month, day), 'MMMM', locale=locale)}"


def format_time(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """« 18h30 », « 18h » (whole hours), « 9h05 »; "18:30" in English."""
    local = _local(dt, tz)
    if language == "en":
        return f"{local.hour:02d}:{local.minute:02d}"
    return f"{local.hour}h" if local.minute == 0 else f"{local.hour}h{local.minute:02d}"


def format_moment(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """« jeudi 14 janvier 2027 à 18h30 », "Thursday 14 January 2027 at 18:30"."""
    joiner = "at" if language == "en" else "à"
    return f"{format_day(dt, language, tz)} {joiner} {format_time(dt, language, tz)}"


def format_slot(slot: Slot, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """« jeudi 14 janvier 2027, 18h30–20h30 » (end on another day: « …, 23h – vendredi … à 1h »)."""
    start, end = _local(slot.start, tz), _local(slot.end, tz)
    if start.date() == end.date():
        return f"{format_day(start, language, tz)}, {format_time(start, language, tz)}–" \
               f"{format_time(end, language, tz)}"
    return f"{format_day(start, language, tz)}, {format_time(start, language, tz)} – " \
           f"{format_moment(end, language, tz)}"


def format_short(dt: datetime, language: str = "fr", tz: ZoneInfo = PARIS) -> str:
    """« 14/01 18h30 », "14/01 18:30"."""
    local = _local(dt, tz)
    return f"{local.day:02d}/{local.month:02d} {format_time(local, language, tz)}"
