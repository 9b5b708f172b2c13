"""Dates a few weeks ahead of today, written as a French user writes them and as the bot should
print them. The integration tests run the bot on the real clock, so a date written into a test
would one day be in the past and refused; the names below are spelled out here, not taken from
the code under test."""

from __future__ import annotations

from datetime import date, timedelta

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
TUESDAY = 1


def tuesday_ahead(weeks: int = 6, today: date | None = None) -> date:
    """The first Tuesday at least ``weeks`` weeks after ``today`` (far enough ahead for every
    offset a test adds to the bot's clock)."""
    start = (today or date.today()) + timedelta(weeks=weeks)
    return start + timedelta(days=(TUESDAY - start.weekday()) % 7)


def long_fr(day: date) -> str:
    """``mardi 12 janvier 2027``, ``vendredi 1er octobre 2027``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{DAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


def numeric_fr(day: date) -> str:
    """``14/01/2027``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
