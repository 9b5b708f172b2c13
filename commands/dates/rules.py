"""Repetitions as written (« chaque mercredi », « tous les 15 jours », « le 15 de chaque mois »):
the ``RuleHead`` of a ``rule_*`` match of the grammar; its time comes from the text's other
parts, and ``commands.dates.recurrence`` places it in time."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from commands.dates._common import MONTH_WORDS, WEEKDAY_WORDS
from commands.dates.patterns import RULE_PARTS, day_list, nth_value, number, weekday_of

_SUR = {"deux": 2, "2": 2, "trois": 3, "3": 3, "quatre": 4, "4": 4}


@dataclass(frozen=True)
class RuleHead:
    """A repetition as written: ``freq`` and what it needs (the time comes from the other parts)."""

    freq: str  # DAILY, WEEKLY, MONTHLY
    weekdays: tuple[int, ...] = ()
    nth: int | None = None
    monthday: int | None = None
    interval: int = 1
    part: str | None = None  # « tous les soirs »
    month: int | None = None  # YEARLY


def rule(kind: str, match: re.Match[str]) -> RuleHead | None:
    """The repetition of a ``rule_*`` match (None: a shape that is not a repetition we keep)."""
    return _RULES[kind](match.groupdict())


def _interval(found: dict[str, str]) -> RuleHead | None:
    """« tous les 15 jours », « toutes les 2 semaines », « tous les deux mois », « une semaine sur
    deux »: the frequency and the interval (the days are added by the caller)."""
    if found.get("sur"):
        return RuleHead("WEEKLY", interval=_SUR[found["sur"]])
    if found.get("msur"):
        return RuleHead("MONTHLY", interval=_SUR[found["msur"]])
    if found.get("en"):
        n = {"other": 2, "two": 2, "three": 3, "four": 4}.get(found["en"]) or int(found["en"])
        unit = found["eunit"]
    else:
        n, unit = number(found["n"]), found["unit"]
    if not 1 <= n <= 60:
        return None
    if unit.startswith(("jour", "day")):
        if n in (7, 8, 14, 15, 21, 28):  # « tous les 15 jours »: every other week
            return RuleHead("WEEKLY", interval={8: 1, 15: 2}.get(n, n // 7))
        return RuleHead("DAILY", interval=n)
    if unit.startswith(("semaine", "week")):
        return RuleHead("WEEKLY", interval=n)
    return RuleHead("MONTHLY", interval=n)


def _monthday(text: str) -> int:
    return 1 if text == "premier" else int(text.rstrip("abcdefghijklmnopqrstuvwxyz"))


def _interval_rule(found: dict[str, str]) -> RuleHead | None:
    """An interval, with the weekdays (weekly) or the day of the month (monthly) it may name."""
    head = _interval(found)
    if head is None:
        return None
    if found.get("days"):
        if head.freq != "WEEKLY":
            return None
        return RuleHead("WEEKLY", day_list(found["days"]), interval=head.interval)
    if found.get("imd"):
        if head.freq != "MONTHLY":
            return None
        return RuleHead("MONTHLY", monthday=_monthday(found["imd"]), interval=head.interval)
    return head


def _every_other(found: dict[str, str]) -> RuleHead:
    day = weekday_of(found["day"] or found["eday"])
    return RuleHead("WEEKLY", (day,), interval=_SUR.get(found["sur"] or "2", 2))


def _range(found: dict[str, str]) -> RuleHead | None:
    """« du lundi au vendredi », « lun-ven »: every day from the first to the last."""
    first = WEEKDAY_WORDS[found["from"] or found["from2"]]
    last = WEEKDAY_WORDS[found["to"] or found["to2"]]
    if first == last:
        return None
    return RuleHead("WEEKLY", tuple(sorted((first + i) % 7 for i in range((last - first) % 7 + 1))))


def _daily(found: dict[str, str]) -> RuleHead | None:
    """« tous les jours », « tous les soirs sauf le mercredi », « tous les jours en semaine »."""
    part = RULE_PARTS[found["part"]] if found.get("part") else None
    days = set(range(7))
    if found.get("weekend"):
        days -= {5, 6}
    if found.get("except"):
        days -= set(day_list(found["except"]))
    if found.get("week"):
        days &= {0, 1, 2, 3, 4}
    if not days:
        return None
    if days == set(range(7)):
        return RuleHead("DAILY", part=part)
    return RuleHead("WEEKLY", tuple(sorted(days)), part=part)


def _nth(found: dict[str, str]) -> RuleHead:
    return RuleHead("MONTHLY", (weekday_of(found["day"] or found["day2"]),),
                    nth=nth_value(found["nth"] or found["nth2"]))


def _yearly(found: dict[str, str]) -> RuleHead:
    return RuleHead("YEARLY", monthday=_monthday(found["d"] or found["d2"]),
                    month=MONTH_WORDS[found["mon"] or found["mon2"]])


def _every_unit(found: dict[str, str]) -> RuleHead:
    """« chaque semaine », « tous les mois »: from the first one."""
    return RuleHead("WEEKLY" if found["unit"].startswith(("semaine", "week")) else "MONTHLY")


_RULES: dict[str, Callable[[dict[str, str]], RuleHead | None]] = {
    "rule_interval": _interval_rule,
    "rule_every_other": _every_other,
    "rule_workdays": lambda _: RuleHead("WEEKLY", (0, 1, 2, 3, 4)),
    "rule_weekend": lambda _: RuleHead("WEEKLY", (5, 6)),
    "rule_range": _range,
    "rule_daily": _daily,
    "rule_lastday": lambda _: RuleHead("MONTHLY", monthday=-1),
    "rule_nth": _nth,
    "rule_monthday": lambda found: RuleHead(
        "MONTHLY", monthday=_monthday(found["md"] or found["md2"] or found["md3"])),
    "rule_yearly": _yearly,
    "rule_every_unit": _every_unit,
    "rule_weekly": lambda found: RuleHead("WEEKLY", day_list(found["days"] or found["pdays"])),
}
