"""The French date/time layer: reading what users write, and writing dates for them.

Pure functions: no clock (every reader takes ``now``, aware, and the club's ``tz``), no I/O.
Returned datetimes are aware in ``tz``. Times are wall-clock times: « demain 9h » is 09:00 local
whatever the DST change in between. A local time that does not exist (02:30 on the last Sunday
of March in Paris) moves forward by the size of the gap (03:30); an ambiguous one (02:30 on the
last Sunday of October) is its first occurrence (+02:00).

One grammar (``grammar.scan``) reads the parts of every date, time, delay and repetition; the
readers place them in time. Readers (``parse``): ``parse_slot`` (a meeting: start and end),
``parse_moment`` and ``split_moment`` (a deadline, a reminder moved), ``parse_duration``.
Recurrences (``recurrence``): ``parse_recurrence``, ``split_recurrence``, ``Recurrence``, and
``split_reminder`` (what ``!rappel`` gets: a moment or a repetition, then the text). Writers
(``format``): ``format_day``, ``format_time``, ``format_moment``, ``format_slot``,
``format_short``, ``format_month``. Every refusal is a
``DateError`` (a ``BadArgument``) whose key is in ``locales/*/dates.toml``.

Rules:

* a date without a year is its next occurrence (today included): read in December, ``14/01`` is
  next January; today's date with a time already past is refused as past, not moved a year on;
* a weekday alone is the next such day (today if the time is still ahead); « lundi prochain » /
  "next monday" is the next Monday strictly after today;
* a written weekday must match the date (« le 14 janvier 2027 est un jeudi, pas un mardi », with
  the nearest such weekday and the date's own weekday offered);
* « minuit » is the end of the day it is written with (« dimanche minuit » is Monday 00:00);
* something past (« hier », « lundi dernier ») is refused as past, and a 29 February the next
  February does not have is refused, never moved to another year;
* a start in the past, or more than two years ahead, is refused; texts longer than 200 characters
  are refused before any regular expression sees them;
* a time alone (``parse_moment``) is today, or tomorrow when already past;
* ``dans 2 jours`` / ``dans un mois`` keep the time of day (calendar arithmetic, relativedelta),
  « huit jours » is a week and « quinze jours » two; ``dans 2 heures`` / ``dans 10 min`` are
  elapsed time, exact to the second.

Parts of the day, when no time is given (a slot gets the whole part; a moment, its start):

==================================================  =============
``matin``, ``matinée``, ``morning``                 09:00–12:00
``midi``, ``noon``                                  12:00–14:00
``après-midi``, ``aprem``, ``afternoon``            14:00–17:00
``fin de matinée``                                  11:00–12:00
``début d'après-midi``                              14:00–16:00
``fin d'après-midi``, ``fin d'aprem``               17:00–19:00
``soir``, ``soirée``, ``ce soir``, ``tonight``      18:30–20:30
``début de soirée``                                 18:00–20:00
``fin de soirée``                                   21:00–23:00
``journée``, ``toute la journée``, ``all day``      09:00–17:00
==================================================  =============

With a time, the time wins, and after ``après-midi`` / ``soir`` a time from 1 to 11 is in the
afternoon (« ce soir 8h » is 20:00). A slot with neither time nor part of the day is refused
(``dates.missing_time``): a meeting needs one. ``18.30`` is a time (30 is no month), ``15.01`` a
date; ``mar`` is Tuesday, never March.
"""

from commands.dates._common import MAX_INPUT, PARIS, PARTS_OF_DAY, DateError, Slot, wall_clock
from commands.dates.durations import parse_duration
from commands.dates.format import (
    day_and_month,
    format_day,
    format_moment,
    format_month,
    format_short,
    format_slot,
    format_time,
)
from commands.dates.parse import parse_moment, parse_slot, split_moment
from commands.dates.recurrence import Recurrence, parse_recurrence, split_recurrence, split_reminder

__all__ = [
    "MAX_INPUT",
    "PARIS",
    "PARTS_OF_DAY",
    "DateError",
    "Recurrence",
    "Slot",
    "day_and_month",
    "format_day",
    "format_moment",
    "format_month",
    "format_short",
    "format_slot",
    "format_time",
    "parse_duration",
    "parse_moment",
    "parse_recurrence",
    "parse_slot",
    "split_moment",
    "split_recurrence",
    "split_reminder",
    "wall_clock",
]
