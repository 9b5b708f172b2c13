"""The one grammar of the date layer: the parts people write, read left to right.

Slots, moments (reminders, deadlines) and recurrences are read by the same scanner: the text is
normalised (``normalize_words``: folded, one kind of dash and apostrophe, obvious typos of
weekdays and months fixed) and read as a sequence of parts, in any order, each at most once:

* a date (``14/01``, ``15.01``, ``15-01-2027``, ``14 janvier 2027``, ``2027-01-14``), an ordinal
  weekday (``le premier mardi de mars``, ``le dernier jeudi du mois``), a weekday (``mardi``,
  ``jeu.``, ``lundi prochain``, ``vendredi en huit``), a relative day (``demain``, ``demain en
  huit``), a bare day (``le 15``, ``mardi 14``);
* a time (``18h``, ``18h30``, ``18 h 30``, ``18:30``, ``midi et demi``, ``8h du soir``), a range
  (``18h30-20h``, ``18-20h``, ``de 18 à 20h``, ``18h/20h``), a part of the day (``matin``),
  ``à la même heure``;
* a delay (``dans 2 jours``, ``dans huit jours``, ``dans un quart d'heure``, ``dans 1h30``);
* a repetition (``chaque mercredi``, ``tous les jours sauf le week-end``, ``du lundi au
  vendredi``, ``le 15 de chaque mois``, ``tous les 15 jours``), read by the same scanner so that
  its time (``soir à 19h``) is read like any other;
* something past (``hier``, ``lundi dernier``): kept, to be refused with what was understood;
* small linking words (``le``, ``à``, ``vers``), which may not end the text.

The scanner only recognises shapes (``Parts``: the values as written). Checking values and
placing them in time is done by ``parse`` (one-off dates) and ``recurrence`` (repetitions).
The words and patterns are in ``patterns``, repetitions in ``rules``, typos in ``typos``.
"""


from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from commands.dates._common import MONTH_WORDS, PART_WORDS, WEEKDAY_WORDS, time_value
from commands.dates.patterns import (
    DAY_WORDS,
    HOUR_WORDS,
    MINUTE_WORDS,
    NUMBER_WORDS,
    PATTERNS,
    RELATIVE_DAYS,
    SEPARATOR,
    day_list,
    nth_value,
    number,
)
from commands.dates.rules import RuleHead, rule


class NoMatch(Exception):
    """The text does not have the shape of a date (becomes ``dates.unparseable``)."""


@dataclass
class Parts:
    """What the text says, as written (values not checked yet)."""

    ymd: tuple[int | None, int, int] | None = None
    relative_days: int | None = None
    weekday: int | None = None
    next_week: bool = False
    week_of_next: bool = False  # « lundi de la semaine prochaine »
    weeks_after: int = 0  # « vendredi en huit »: 1, « en quinze »: 2
    bare_day: int | None = None
    nth_weekday: tuple[int, int, int | None, int | None, int] | None = None
    """(nth, weekday, month or None for « du mois », year or None, months ahead for « du mois »)."""
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    part: str | None = None
    same_time: bool = False
    delta: relativedelta | None = None
    clock_delta: timedelta | None = None
    past: str | None = None
    short_weekday: bool = False
    """« sam », « mer » without a dot: a weekday only with something more (« sam 10h »)."""
    several_days: bool = False
    vague: bool = False
    """« la semaine prochaine », « ce week-end »: no day said (with a weekday: its next week's)."""
    rule: RuleHead | None = None
    kinds: list[str] = field(default_factory=list)

    def has_day(self) -> bool:
        return (self.ymd is not None or self.relative_days is not None or self.bare_day is not None
                or self.nth_weekday is not None)

    def relative(self) -> bool:
        return self.delta is not None or self.clock_delta is not None

    def lone_short_weekday(self) -> bool:
        """Only « sam » or « mer » (no dot, nothing more): a weekday as a whole text, but not at
        the start of a reminder's text (« sam passe chercher les clés », « mer calme »)."""
        return [k for k in self.kinds if k != "filler"] == ["weekday"] and self.short_weekday \
            and not (self.next_week or self.weeks_after or self.week_of_next)


def _unit_delta(count: int, unit: str) -> tuple[relativedelta | None, timedelta | None]:
    if unit.startswith("s") and not unit.startswith("sem"):
        return None, timedelta(seconds=count)
    if unit.startswith(("min", "mn")):
        return None, timedelta(minutes=count)
    if unit.startswith(("h", "heure")):
        return None, timedelta(hours=count)
    if unit.startswith(("j", "d")):
        # « huit jours » is a week and « quinze jours » two, as everyone means them.
        return relativedelta(days={8: 7, 15: 14}.get(count, count)), None
    if unit.startswith(("sem", "week")):
        return relativedelta(weeks=count), None
    if unit.startswith(("mois", "month")):
        return relativedelta(months=count), None
    return relativedelta(years=count), None


def _take(parts: Parts, kind: str, match: re.Match[str], previous: str | None) -> bool:
    """Records one matched part; False when it cannot be taken here (already given…)."""
    if kind == "rule_except":  # « tous les jours à 8h sauf le week-end »
        return _take_except(parts, match)
    if kind.startswith("rule_"):
        head = None if _taken(parts) else rule(kind, match)
        if head is not None:
            parts.rule = head
        return head is not None
    if parts.rule is not None and kind not in ("time", "part", "filler", "range"):
        return False
    return _TAKERS[kind](parts, kind, match, previous)


def _taken(parts: Parts) -> bool:
    """Something was read already (linking words aside)."""
    return any(k != "filler" for k in parts.kinds)


def _take_past(parts: Parts, _kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if _taken(parts):
        return False
    parts.past = match[0]
    return True


def _take_nth_weekday(parts: Parts, _kind: str, match: re.Match[str],
                      _previous: str | None) -> bool:
    if parts.has_day() or parts.relative() or parts.weekday is not None:
        return False
    month = MONTH_WORDS[match["mon"]] if match["mon"] else None
    year = int(match["y"]) if match["y"] else None
    ahead = 1 if (match["next"] or match["nextm"]) else 0
    parts.nth_weekday = (nth_value(match["nth"]), WEEKDAY_WORDS[match["wd"]], month, year, ahead)
    return True


def _take_relative(parts: Parts, kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if parts.has_day() or parts.relative():
        return False
    if kind == "relative_part":
        if parts.part is not None:
            return False
        parts.relative_days = 0
        parts.part = PART_WORDS[match["part"] or "tonight"]
    else:
        parts.relative_days = RELATIVE_DAYS[match["rd"]]
        parts.weeks_after = _weeks_after(match["en"])
    return True


def _take_several_days(parts: Parts, _kind: str, _match: re.Match[str],
                       _previous: str | None) -> bool:
    """« lundi et jeudi 9h »: once each, or every week? Asked."""
    if _taken(parts):
        return False
    parts.several_days = True
    return True


def _take_vague(parts: Parts, _kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if parts.vague or parts.has_day() or parts.relative():
        return False
    if match["nextweek"] and parts.weekday is not None:  # « jeudi, la semaine prochaine »
        if parts.next_week or parts.weeks_after:
            return False
        parts.week_of_next = True
        return True
    parts.vague = not match["nextweek"]
    parts.week_of_next = bool(match["nextweek"])
    return True


def _take_time(parts: Parts, kind: str, match: re.Match[str], previous: str | None) -> bool:
    """A time, a range, « à la même heure », « entre midi et deux »: one of them at most."""
    if parts.start is not None or parts.clock_delta is not None or parts.same_time:
        return False
    if kind == "same_time":
        parts.same_time = True
    elif kind == "time_words":
        hour, mer = HOUR_WORDS[match["h"]], match["mer"] or ""
        said = match["rest"] or f"{MINUTE_WORDS[match['m']] if match['m'] else 0:02d}"
        parts.start = time_value(f"{hour}h{said}{mer}")
    elif kind == "noon_break":
        parts.start, parts.end = (12, 0), (14, 0)
    elif kind == "range":
        return _take_range(parts, match, previous)
    else:
        parts.start = time_value(match["t"])
    return True


def _take_part(parts: Parts, _kind: str, match: re.Match[str], _previous: str | None) -> bool:
    # Not after a time: « demain 9h soirée crêpes » is 9h, not 21h.
    if (parts.relative() and parts.delta is None) or parts.part is not None \
            or parts.start is not None:
        return False
    parts.part = PART_WORDS[match["part"]]
    return True


def _take_bare_day(parts: Parts, _kind: str, match: re.Match[str], previous: str | None) -> bool:
    # A lone day number only right after a weekday (« mardi 14 ») or after « le » (« le 15 »).
    if parts.has_day() or parts.relative() or not (match["le"] or previous == "weekday"):
        return False
    parts.bare_day = int(match["d"])
    return True


def _take_suffix(_parts: Parts, _kind: str, _match: re.Match[str], previous: str | None) -> bool:
    """« 18h pile », « 18h précises »: only after a time."""
    return previous in ("time", "time_words")


def _take_filler(_parts: Parts, _kind: str, _match: re.Match[str], _previous: str | None) -> bool:
    return True


def _take_except(parts: Parts, match: re.Match[str]) -> bool:
    head = parts.rule
    if head is None or head.freq not in ("DAILY", "WEEKLY") or head.interval != 1 \
            or "rule_except" in parts.kinds:
        return False
    days = set(head.weekdays or range(7))
    days -= {5, 6} if match["weekend"] else set(day_list(match["except"]))
    if not days:
        return False
    parts.rule = RuleHead("WEEKLY", tuple(sorted(days)), part=head.part)
    return True


def _weeks_after(word: str | None) -> int:
    return 0 if word is None else (1 if word in ("huit", "8") else 2)


def _take_delay(parts: Parts, kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if parts.relative() or parts.has_day() or parts.weekday is not None:
        return False
    if kind == "in_quarter":
        parts.clock_delta = timedelta(minutes=15 * number(match["n"] or match["frac"] or "1"))
    elif kind == "in_half":
        parts.clock_delta = timedelta(minutes=30)
    elif kind == "in_hm":
        minutes = int(match["m"] or 0) + {"demi": 30, "demie": 30, "quart": 15}.get(match["half"] or "", 0)
        minutes += NUMBER_WORDS.get(match["mw"] or "", 0)
        if minutes >= 60:
            return False
        parts.clock_delta = timedelta(hours=number(match["h"]), minutes=minutes)
    elif match["about"]:  # « dans une quinzaine »: two weeks
        parts.delta = relativedelta(weeks=1 if match["about"] == "huitaine" else 2)
    else:
        count = number(match["n"])
        if count == 0:
            return False
        parts.delta, parts.clock_delta = _unit_delta(count, match["unit"])
    return True


def _take_date(parts: Parts, kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if kind == "dotted":
        return _take_dotted(parts, match)
    if parts.has_day() or parts.relative():
        return False
    year = int(match["y"]) if match["y"] else None
    if year is not None and year < 100:
        year += 2000
    if kind in ("day_month", "month_day"):
        month = MONTH_WORDS[match["mon"]]
        day_text = match["d"]
        day = DAY_WORDS.get(day_text) or int(day_text.rstrip("abcdefghijklmnopqrstuvwxyz"))
    else:
        month, day = int(match["m"]), int(match["d"])
        if "-" in match[0] and year is None and not 1 <= month <= 12:
            return False  # « 18-20 h » is a range
    parts.ymd = (year, month, day)
    return True


def _take_dotted(parts: Parts, match: re.Match[str]) -> bool:
    # « 15.01 » is a date, « 18.30 » a time: a second number above 12 cannot be a month, and
    # after a day (« demain 18.30 ») it is a time.
    day, second = int(match["d"]), int(match["m"])
    if (parts.has_day() or second > 12) and not match["le"]:
        if parts.start is not None or parts.relative() or day > 23 or second > 59:
            return False
        parts.start = (day, second)
        return True
    if parts.has_day() or parts.relative():
        return False
    parts.ymd = (None, second, day)
    return True


def _take_weekday(parts: Parts, _kind: str, match: re.Match[str], _previous: str | None) -> bool:
    if parts.weekday is not None or parts.relative() or parts.part is not None:
        return False
    # After a time, only a weekday that cannot be the start of the text (« 18h jeudi »):
    # « demain 18h jeu de société » keeps its « jeu ».
    if parts.start is not None and (parts.has_day() or (len(match["wd"]) < 5 and not match["dot"])):
        return False
    if parts.weeks_after and parts.relative_days is not None:
        return False
    if parts.vague:
        return False
    parts.weekday = WEEKDAY_WORDS[match["wd"]]
    parts.short_weekday = len(match["wd"]) < 5 and not match["dot"]
    parts.next_week = bool(match["next"] or match["prochain"])
    parts.week_of_next = parts.week_of_next or bool(match["nextweek"])
    parts.weeks_after = parts.weeks_after or _weeks_after(match["en"])
    return True


def _take_range(parts: Parts, match: re.Match[str], previous: str | None) -> bool:
    a_bare, b_bare = match["a"].isdigit(), match["b"].isdigit()
    if a_bare and b_bare:
        return False
    # « 18-20h », « de 18 à 20h », « 18 à 20h jeudi »; not « jeudi 3 à 18h » (the 3rd at 18h).
    if a_bare and not (match["lead"] or match["sep"] in ("-", "/")) and previous == "weekday":
        return False
    start, end = time_value(match["a"]), time_value(match["b"])
    parts.start, parts.end = start, end
    return True

_Taker = Callable[[Parts, str, re.Match[str], str | None], bool]
_TAKERS: dict[str, _Taker] = {
    "past": _take_past,
    **dict.fromkeys(("in_quarter", "in_half", "in_hm", "in"), _take_delay),
    **dict.fromkeys(("iso", "numeric", "day_month", "month_day", "dotted"), _take_date),
    "nth_weekday": _take_nth_weekday,
    **dict.fromkeys(("relative_part", "relative_day"), _take_relative),
    "weekday": _take_weekday,
    "several_days": _take_several_days,
    "vague": _take_vague,
    **dict.fromkeys(("same_time", "time_words", "noon_break", "range", "time"), _take_time),
    "part": _take_part,
    "bare_day": _take_bare_day,
    "suffix": _take_suffix,
    "filler": _take_filler,
}


def scan(text: str) -> Parts:
    """The parts of a whole normalised text (``normalize_words``), or ``NoMatch``."""
    parts = Parts()
    pos, previous = 0, None
    while pos < len(text):
        separator = SEPARATOR.match(text, pos)
        if separator:
            pos = separator.end()
            continue
        for kind, pattern in PATTERNS:
            match = pattern.match(text, pos)
            if match and _take(parts, kind, match, previous):
                break
        else:
            raise NoMatch
        pos, previous = match.end(), kind
        parts.kinds.append(kind)
    if not [k for k in parts.kinds if k != "filler"] or previous == "filler":
        raise NoMatch
    return parts


