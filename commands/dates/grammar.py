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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from dateutil.relativedelta import relativedelta

from commands.dates._common import (
    MERIDIEM,
    MONTH_RE,
    MONTH_WORDS,
    PART_RE,
    PART_WORDS,
    SPOKEN,
    TIME_RE,
    WEEKDAY_RE,
    WEEKDAY_WORDS,
    alternation,
    normalize,
    time_value,
)

_END = r"(?=[ ,;:!?()]|\.(?:[ ,;:!?()]|$)|$)"
_DAY_SUFFIX = r"(?:er|re|eme|e|st|nd|rd|th)?"

# Numbers written in words, as in « dans deux heures », « tous les quinze jours ».
NUMBER_WORDS: dict[str, int] = {
    "un": 1, "une": 1, "a": 1, "an": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3,
    "quatre": 4, "four": 4, "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7, "huit": 8,
    "eight": 8, "neuf": 9, "nine": 9, "dix": 10, "ten": 10, "onze": 11, "douze": 12,
    "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingt-cinq": 25,
    "trente": 30, "quarante": 40, "quarante-cinq": 45, "cinquante": 50, "soixante": 60,
}
_NUMBER = rf"(?:\d{{1,3}}|{alternation(NUMBER_WORDS)})"
# Hours in words, after « à » or « vers » only (« deux heures de route » is not a time).
HOUR_WORDS: dict[str, int] = {
    "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, "vingt": 20,
    "vingt et une": 21, "vingt-et-une": 21, "vingt-deux": 22, "vingt-trois": 23}
_UNITS_FR = ("un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
DAY_WORDS: dict[str, int] = {
    **{word: n for n, word in enumerate(
        ("premier", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
         "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
         "vingt"), 1)},
    "vingt et un": 21, "vingt-et-un": 21, "trente": 30, "trente et un": 31, "trente-et-un": 31,
    **{f"vingt-{word}": 20 + n for n, word in enumerate(_UNITS_FR[1:], 2)},
}
_MINUTE_WORDS = {"cinq": 5, "dix": 10, "quinze": 15, "vingt": 20, "vingt-cinq": 25, "trente": 30,
                 "quarante": 40, "quarante-cinq": 45, "cinquante": 50}
_UNITS = (r"secondes?|secs?|s|minutes?|mins?|mn|heures?|hours?|hrs?|h|jours?|days?|j|semaines?|weeks?"
          r"|sem|mois|months?|annees?|ans?|years?")
_RELATIVE_DAYS = {"aujourd'hui": 0, "aujourdhui": 0, "aujourd hui": 0, "auj": 0, "ajd": 0, "aujd": 0,
                  "today": 0, "demain": 1, "tomorrow": 1, "apres-demain": 2, "apres demain": 2,
                  "day after tomorrow": 2, "the day after tomorrow": 2}
_WEEKS_AFTER = r"en (?P<en>huit|8|quinze|15)"
_NTH_WORDS = (r"(?:1er|1re|1ere|1e|premiere?s?|first|2e|2eme|2nd|deuxiemes?|second|seconde|3e|3eme"
              r"|3rd|troisiemes?|third|4e|4eme|4th|quatriemes?|fourth|derniere?s?|last)")
_NTH = rf"(?P<nth>{_NTH_WORDS})"
_NTH_VALUES = {"1": 1, "p": 1, "f": 1, "2": 2, "d": 2, "s": 2, "3": 3, "t": 3, "4": 4, "q": 4}
_FULL_WEEKDAYS = alternation(word for word in WEEKDAY_WORDS if len(word) >= 5)
_EVERY = r"(?:chaque|chq|tous les|toutes les|tt les|ts les|every|each)"
_DAYS = rf"(?:{WEEKDAY_RE})s?\.?"
_DAY_JOIN = rf"(?:, ?| et | and | & |, et )(?:le |les )?{_DAYS}"
_DAY_LIST = rf"{_DAYS}(?:{_DAY_JOIN})*"
_OF_MONTH = r"(?:du mois|de chaque mois|de tous les mois|of the month|of every month|of each month)"
_OF_EACH_MONTH = r"(?:de chaque mois|de tous les mois|of every month|of each month)"
_MONTHDAY_WORDS = r"(?:\d{1,2}(?:ers?|e|st|nd|rd|th)?|premier)"
_RULE_PARTS = {"soir": "soir", "soiree": "soir", "matin": "matin", "matinee": "matin",
               "midi": "midi", "apres-midi": "apres-midi", "aprem": "apres-midi",
               "evening": "soir", "morning": "matin", "night": "soir"}
_WEEKEND = r"(?:le |les )?(?:week-?ends?|weekends?|samedis? et dimanches?)"
_EXCEPT = rf"(?:sauf|except|hors) (?:(?P<weekend>{_WEEKEND})|(?:le |les )?(?P<except>{_DAY_LIST}))"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern}){_END}", re.ASCII)


# Tried in this order at each position; the first that matches and can be taken is taken.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Repetitions (a marker is required: « chaque », « tous les », « de chaque mois », « sur deux »…).
    ("rule_interval", _rx(
        rf"(?:(?:(?:tous|toutes) les|chaque) (?P<n>{_NUMBER}) (?P<unit>jours|semaines|mois)"
        rf"|(?:every|chaque) (?P<en>\d{{1,3}}|other|two|three|four) (?P<eunit>days|weeks|months)"
        rf"|(?:une|1) semaine sur (?P<sur>deux|2|trois|3|quatre|4)"
        rf"|(?:un|1) mois sur (?P<msur>deux|2|trois|3|quatre|4))"
        rf"(?:,? (?:le |les |on )?(?P<days>{_DAY_LIST})|,? (?:le |on the )?(?P<imd>{_MONTHDAY_WORDS}))?")),
    ("rule_every_other", _rx(
        rf"(?:un|une|chaque) (?P<day>{WEEKDAY_RE})\.? sur (?P<sur>deux|2|trois|3|quatre|4)"
        rf"|(?:every|chaque) other (?P<eday>{WEEKDAY_RE})")),
    ("rule_workdays", _rx(
        rf"(?:{_EVERY}|les) (?:(?:les )?jours? (?:ouvres?|ouvrables?|de (?:la )?semaine)"
        r"|weekdays?|working days?|business days?)|en semaine|on weekdays")),
    ("rule_weekend", _rx(rf"{_EVERY} {_WEEKEND}")),
    ("rule_range", _rx(
        rf"(?:{_EVERY} (?:les )?(?:jours?|days?|semaines?|weeks?) )?"
        rf"(?:(?:(?:du|de|from) )?(?P<from>{WEEKDAY_RE})\.? (?:au|a|to) (?P<to>{WEEKDAY_RE})\.?"
        rf"|(?P<from2>{WEEKDAY_RE})\.?-(?P<to2>{WEEKDAY_RE})\.?)")),
    ("rule_daily", _rx(
        rf"{_EVERY} (?:(?:jours?|days?|(?P<part>{alternation(_RULE_PARTS)})s?))"
        rf"(?: {_EXCEPT})?"
        rf"(?: (?P<week>en semaine|du lundi au vendredi))?")),
    ("rule_lastday", _rx(
        rf"{_EVERY} (?:(?:le|the) )?(?:dernier jour|last day)(?: {_OF_MONTH})?"
        rf"|(?:le |the )?(?:dernier jour|last day) {_OF_EACH_MONTH}")),
    ("rule_nth", _rx(
        rf"{_EVERY} (?:(?:le|the) )?{_NTH} (?P<day>{_DAYS})(?: {_OF_MONTH})?"
        rf"|(?:le |the )?(?P<nth2>{_NTH_WORDS}) (?P<day2>{_DAYS}) {_OF_EACH_MONTH}")),
    ("rule_monthday", _rx(
        rf"{_EVERY} (?:mois|month|months),? (?:(?:le|on the|the) )?(?P<md>{_MONTHDAY_WORDS})"
        rf"|{_EVERY} (?:les )?(?P<md2>{_MONTHDAY_WORDS}) {_OF_MONTH}"
        rf"|(?:le |the )?(?P<md3>{_MONTHDAY_WORDS}) {_OF_EACH_MONTH}")),
    ("rule_yearly", _rx(
        rf"(?:chaque annee|tous les ans|toutes les annees|every year|each year|annuellement),? "
        rf"(?:le |on )?(?P<d>\d{{1,2}}{_DAY_SUFFIX}|premier) (?P<mon>{MONTH_RE})\.?"
        rf"|(?:le |on )?(?P<d2>\d{{1,2}}{_DAY_SUFFIX}|premier) (?P<mon2>{MONTH_RE})\.?,? "
        rf"(?:de chaque annee|de tous les ans|chaque annee|tous les ans|every year)")),
    ("rule_weekly", _rx(rf"{_EVERY} (?:(?:semaines?|weeks?),? (?:(?:le|les|on) )?)?(?P<days>{_DAY_LIST})"
                        rf"|les (?P<pdays>{_DAY_LIST})")),
    ("rule_every_unit", _rx(rf"{_EVERY} (?P<unit>semaines?|weeks?|mois|months?)")),
    ("rule_except", _rx(_EXCEPT)),
    # Something past, kept to be refused with what was understood.
    ("past", _rx(rf"hier|avant-hier|avant hier|yesterday"
                 rf"|(?:la semaine|le mois|l'annee|l'an|le week-end|le weekend) (?:derniere?|passee?)"
                 rf"|(?:last|past) (?:week|month|year|{WEEKDAY_RE})"
                 rf"|(?:ce |cette )?(?:{_FULL_WEEKDAYS}) (?:derniere?|passee?)|(?:{WEEKDAY_RE})\.? derniere?"
                 rf"|il y a {_NUMBER} ?(?:{_UNITS})")),
    # Delays.
    ("in_quarter", _rx(r"(?:dans|ds|d'ici|in) (?:(?:(?P<n>un|1|deux|2|trois|3) )?quarts?|(?P<frac>[13])/4)"
                       r" d'heure|in (?:a )?quarter of an hour")),
    ("in_half", _rx(r"(?:dans|d'ici) (?:une demi-heure|une demi heure|1/2 ?h(?:eure)?)|in half an hour")),
    ("in_hm", _rx(rf"(?:dans|ds|d'ici|in) (?P<h>{_NUMBER}) ?(?:h|heures?|hours?)"
                  r"(?: ?(?P<m>\d{1,2}) ?(?:min|mins|minutes|mn)?| et (?P<half>demie?|quart)"
                  r"| (?P<mw>trente|quinze|quarante-cinq|dix|vingt))")),
    ("in", _rx(rf"(?:dans|ds|d'ici|in) (?P<n>{_NUMBER}) ?(?P<unit>{_UNITS})"
               r"|(?:dans|d'ici) une (?P<about>huitaine|quinzaine)(?: de jours)?")),
    # Dates.
    ("iso", _rx(r"(?:le |on )?(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")),
    ("numeric", _rx(r"(?:le |on )?(?P<d>\d{1,2})(?:er)?/(?P<m>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?")),
    ("numeric", _rx(r"(?:le |on )?(?P<d>\d{1,2})-(?P<m>\d{1,2})(?:-(?P<y>\d{4}|\d{2}))?")),
    ("numeric", _rx(r"(?:le |on )?(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})")),
    ("dotted", _rx(r"(?P<le>le |on )?(?P<d>\d{1,2})\.(?P<m>\d{2})")),
    ("day_month", _rx(rf"(?:le |on |the )?(?P<d>\d{{1,2}}{_DAY_SUFFIX}|{alternation(DAY_WORDS)}) (?:of )?"
                      rf"(?P<mon>{MONTH_RE})\.?(?:,? (?P<y>\d{{4}}))?")),
    ("month_day", _rx(rf"(?P<mon>{MONTH_RE})\.? (?:the )?(?P<d>\d{{1,2}}){_DAY_SUFFIX}"
                      r"(?:,? (?P<y>\d{4}))?")),
    ("nth_weekday", _rx(
        rf"(?:le |the )?{_NTH} (?P<wd>{WEEKDAY_RE})\.? "
        rf"(?:(?:de |d'|of |in |du mois de |du mois d')(?P<mon>{MONTH_RE})\.?"
        rf"(?: (?P<y>\d{{4}}))?|(?P<this>du mois|de ce mois|of the month|this month)"
        rf"(?: (?P<next>prochain))?|(?P<nextm>du mois prochain|next month))")),
    ("relative_part", _rx(rf"(?:ce|cet|cette|this) (?P<part>{PART_RE})|(?P<tonight>tonight)")),
    ("relative_day", _rx(rf"(?:d')?(?P<rd>{alternation(_RELATIVE_DAYS)})(?: {_WEEKS_AFTER})?")),
    ("several_days", _rx(rf"(?:le |les )?{_DAYS}(?:{_DAY_JOIN})+")),
    ("weekday", _rx(rf"(?:(?P<next>next) |(?:ce|cette|this) )?(?P<wd>{WEEKDAY_RE})(?P<dot>\.)?"
                    rf"(?: (?P<prochain>prochaine?|proch|suivante?)| qui vient| {_WEEKS_AFTER}"
                    r"| (?P<nextweek>(?:de )?la semaine prochaine|semaine prochaine"
                    r"|de la semaine d'apres|next week))?")),
    ("vague", _rx(r"(?P<nextweek>(?:la |de la )?semaine (?:prochaine|pro|proch)|next week)"
                  r"|cette semaine|this week|(?:ce|le) week-?end(?: prochain)?|(?:this|next) weekend"
                  r"|(?:en )?fin de semaine"
                  r"|(?:le|du) mois prochain|next month|(?:la )?semaine d'apres")),
    ("same_time", _rx(r"(?:a )?la meme heure|meme heure|(?:at )?the same time")),
    ("noon_break", _rx(r"entre midi et (?:deux|2)(?: ?h(?:eures?)?)?")),  # 12h–14h, as everyone says
    ("range", _rx(rf"(?:(?P<lead>de|from|entre|between) )?(?P<a>{TIME_RE}|\d{{1,2}}) ?"
                  rf"(?P<sep>-|/|a|to|et|and|jusqu'a) ?(?P<b>{TIME_RE}|\d{{1,2}})")),
    ("part", _rx(rf"(?:en |au |dans la |dans l'|le |l'|in the |the )?(?P<part>{PART_RE})s?"
                 r"(?! et (?:demie?|quart)| moins )")),
    ("time", _rx(rf"(?P<t>{TIME_RE})")),
    ("time_words", _rx(rf"(?:a|vers|des) (?P<h>{alternation(HOUR_WORDS)}) heures?"
                       rf"(?: (?P<m>{alternation(_MINUTE_WORDS)})|(?P<rest>{SPOKEN}))?(?P<mer>{MERIDIEM})?")),
    ("bare_day", _rx(r"(?P<le>le |the )?(?P<d>\d{1,2})(?:er|st|nd|rd|th)?(?: du mois| of the month)?")),
    ("suffix", _rx(r"pile|precises?|tapantes?|petantes?|environ|sharp")),
    ("filler", _rx(r"a partir de|jusqu'a|jusqu'au|a|at|on|vers|around|des|le|the|pour|for|from|until")),
)
_SEPARATOR = re.compile(r"(?:[ ,;:!?()]|\.(?=[ ,;:!?()]|$)|(?<= )-(?= ))+")


class NoMatch(Exception):
    """The text does not have the shape of a date (becomes ``dates.unparseable``)."""


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


def number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def weekday_of(word: str) -> int:
    word = word.rstrip(".")
    return WEEKDAY_WORDS[word] if word in WEEKDAY_WORDS else WEEKDAY_WORDS[word[:-1]]


def nth_value(word: str) -> int:
    if word.startswith(("dernier", "last")):
        return -1
    return _NTH_VALUES[word[0]]


def _day_list(text: str) -> tuple[int, ...]:
    words = [w.removeprefix("les ").removeprefix("le ") for w in re.split(r", et |, ?| et | and | & ", text)
             if w]
    return tuple(sorted({weekday_of(w) for w in words}))


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


_SUR = {"deux": 2, "2": 2, "trois": 3, "3": 3, "quatre": 4, "4": 4}


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


def _rule(kind: str, match: re.Match[str]) -> RuleHead | None:
    """The repetition of a ``rule_*`` match (None: a shape that is not a repetition we keep)."""
    found = match.groupdict()
    if kind == "rule_interval":
        head = _interval(found)
        if head is None:
            return None
        if found.get("days"):
            if head.freq != "WEEKLY":
                return None
            return RuleHead("WEEKLY", _day_list(found["days"]), interval=head.interval)
        if found.get("imd"):
            if head.freq != "MONTHLY":
                return None
            return RuleHead("MONTHLY", monthday=_monthday(found["imd"]), interval=head.interval)
        return head
    if kind == "rule_every_other":
        day = weekday_of(found["day"] or found["eday"])
        return RuleHead("WEEKLY", (day,), interval=_SUR.get(found["sur"] or "2", 2))
    if kind == "rule_workdays":
        return RuleHead("WEEKLY", (0, 1, 2, 3, 4))
    if kind == "rule_weekend":
        return RuleHead("WEEKLY", (5, 6))
    if kind == "rule_range":
        first = WEEKDAY_WORDS[found["from"] or found["from2"]]
        last = WEEKDAY_WORDS[found["to"] or found["to2"]]
        if first == last:
            return None
        return RuleHead("WEEKLY", tuple(sorted((first + i) % 7 for i in range((last - first) % 7 + 1))))
    if kind == "rule_daily":
        part = _RULE_PARTS[found["part"]] if found.get("part") else None
        days = set(range(7))
        if found.get("weekend"):
            days -= {5, 6}
        if found.get("except"):
            days -= set(_day_list(found["except"]))
        if found.get("week"):
            days &= {0, 1, 2, 3, 4}
        if not days:
            return None
        if days == set(range(7)):
            return RuleHead("DAILY", part=part)
        return RuleHead("WEEKLY", tuple(sorted(days)), part=part)
    if kind == "rule_lastday":
        return RuleHead("MONTHLY", monthday=-1)
    if kind == "rule_nth":
        return RuleHead("MONTHLY", (weekday_of(found["day"] or found["day2"]),),
                        nth=nth_value(found["nth"] or found["nth2"]))
    if kind == "rule_monthday":
        return RuleHead("MONTHLY", monthday=_monthday(found["md"] or found["md2"] or found["md3"]))
    if kind == "rule_yearly":
        return RuleHead("YEARLY", monthday=_monthday(found["d"] or found["d2"]),
                        month=MONTH_WORDS[found["mon"] or found["mon2"]])
    if kind == "rule_every_unit":  # « chaque semaine », « tous les mois »: from the first one
        return RuleHead("WEEKLY" if found["unit"].startswith(("semaine", "week")) else "MONTHLY")
    return RuleHead("WEEKLY", _day_list(found["days"] or found["pdays"]))  # rule_weekly


def _take(parts: Parts, kind: str, match: re.Match[str], previous: str | None) -> bool:
    """Records one matched part; False when it cannot be taken here (already given…)."""
    taken = [k for k in parts.kinds if k != "filler"]
    if kind == "rule_except":  # « tous les jours à 8h sauf le week-end »
        return _take_except(parts, match)
    if kind.startswith("rule_"):
        if taken:
            return False
        head = _rule(kind, match)
        if head is None:
            return False
        parts.rule = head
        return True
    if parts.rule is not None and kind not in ("time", "part", "filler", "range"):
        return False
    if kind == "past":
        if taken:
            return False
        parts.past = match[0]
        return True
    if kind in ("in_quarter", "in_half", "in_hm", "in"):
        return _take_delay(parts, kind, match)
    if kind in ("iso", "numeric", "day_month", "month_day", "dotted"):
        return _take_date(parts, kind, match)
    if kind == "nth_weekday":
        if parts.has_day() or parts.relative() or parts.weekday is not None:
            return False
        month = MONTH_WORDS[match["mon"]] if match["mon"] else None
        year = int(match["y"]) if match["y"] else None
        ahead = 1 if (match["next"] or match["nextm"]) else 0
        parts.nth_weekday = (nth_value(match["nth"]), WEEKDAY_WORDS[match["wd"]], month, year, ahead)
        return True
    if kind in ("relative_part", "relative_day"):
        if parts.has_day() or parts.relative():
            return False
        if kind == "relative_part":
            if parts.part is not None:
                return False
            parts.relative_days = 0
            parts.part = PART_WORDS[match["part"] or "tonight"]
        else:
            parts.relative_days = _RELATIVE_DAYS[match["rd"]]
            parts.weeks_after = _weeks_after(match["en"])
        return True
    if kind == "weekday":
        return _take_weekday(parts, match)
    if kind == "several_days":  # « lundi et jeudi 9h »: once each, or every week? Asked.
        if taken:
            return False
        parts.several_days = True
        return True
    if kind == "vague":
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
    if kind == "same_time":
        if parts.start is not None or parts.same_time or parts.clock_delta is not None:
            return False
        parts.same_time = True
        return True
    if kind == "time_words":
        if parts.start is not None or parts.clock_delta is not None or parts.same_time:
            return False
        hour, mer = HOUR_WORDS[match["h"]], match["mer"] or ""
        said = match["rest"] or f"{_MINUTE_WORDS[match['m']] if match['m'] else 0:02d}"
        parts.start = time_value(f"{hour}h{said}{mer}")
        return True
    if kind == "noon_break":
        if parts.start is not None or parts.clock_delta is not None or parts.same_time:
            return False
        parts.start, parts.end = (12, 0), (14, 0)
        return True
    if kind in ("range", "time"):
        if parts.start is not None or parts.clock_delta is not None or parts.same_time:
            return False
        if kind == "range":
            return _take_range(parts, match, previous)
        parts.start = time_value(match["t"])
        return True
    if kind in ("part", "bare_day") and parts.relative() and parts.delta is None:
        return False
    if kind == "part":
        # Not after a time: « demain 9h soirée crêpes » is 9h, not 21h.
        if parts.part is not None or parts.start is not None:
            return False
        parts.part = PART_WORDS[match["part"]]
        return True
    if kind == "bare_day":
        # A lone day number only right after a weekday (« mardi 14 ») or after « le » (« le 15 »).
        if parts.has_day() or parts.relative() or not (match["le"] or previous == "weekday"):
            return False
        parts.bare_day = int(match["d"])
        return True
    if kind == "suffix":  # « 18h pile », « 18h précises »: only after a time
        return previous in ("time", "time_words")
    return kind == "filler"


def _take_except(parts: Parts, match: re.Match[str]) -> bool:
    head = parts.rule
    if head is None or head.freq not in ("DAILY", "WEEKLY") or head.interval != 1 \
            or "rule_except" in parts.kinds:
        return False
    days = set(head.weekdays or range(7))
    days -= {5, 6} if match["weekend"] else set(_day_list(match["except"]))
    if not days:
        return False
    parts.rule = RuleHead("WEEKLY", tuple(sorted(days)), part=head.part)
    return True


def _weeks_after(word: str | None) -> int:
    return 0 if word is None else (1 if word in ("huit", "8") else 2)


def _take_delay(parts: Parts, kind: str, match: re.Match[str]) -> bool:
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


def _take_date(parts: Parts, kind: str, match: re.Match[str]) -> bool:
    if kind == "dotted":
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


def _take_weekday(parts: Parts, match: re.Match[str]) -> bool:
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


def scan(text: str) -> Parts:
    """The parts of a whole normalised text (``normalize_words``), or ``NoMatch``."""
    parts = Parts()
    pos, previous = 0, None
    while pos < len(text):
        separator = _SEPARATOR.match(text, pos)
        if separator:
            pos = separator.end()
            continue
        for kind, pattern in _PATTERNS:
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


# --- typos -------------------------------------------------------------------------------------

_TARGETS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier",
            "fevrier", "avril", "juillet", "septembre", "octobre", "novembre", "decembre", "demain",
            "prochain", "prochaine", "semaine", "minuit", "aujourd'hui", "apres-midi", "chaque")
_KNOWN = frozenset(_TARGETS) | frozenset(WEEKDAY_WORDS) | frozenset(MONTH_WORDS) | frozenset(
    word + "s" for word in _TARGETS) | frozenset(
    {"heure", "heures", "minute", "minutes", "jours", "semaines", "premier", "premiere",
     "dernier", "derniere", "soiree", "matinee", "journee", "quinze", "demie", "quart"})
_WORD_RE = re.compile(r"[a-z'-]{5,}")


def _close(word: str, target: str) -> bool:
    """Damerau-Levenshtein distance at most 1 (one letter missing, added, changed or swapped);
    the caller keeps the first letter, as typos do (« remain » is not « demain »)."""
    if abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diffs) <= 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                    and word[diffs[0]] == target[diffs[1]]
                                    and word[diffs[1]] == target[diffs[0]])
    short, long = sorted((word, target), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


@cache
def _fix(word: str) -> str:
    if word in _KNOWN:
        return word
    found = [target for target in _TARGETS if word[0] == target[0] and _close(word, target)]
    return found[0] if len(found) == 1 else word


def normalize_words(text: str) -> str:
    """``normalize`` plus the obvious typos of date words fixed (« mecredi », « demian »).

    Only words typed in lower case (or all in capitals, or the first word) are fixed: « Martin »
    is a name.
    """
    raws, folded_words = text.split(), normalize(text).split(" ")
    if len(raws) != len(folded_words):
        return normalize(text)
    words = []
    for index, (raw, folded) in enumerate(zip(raws, folded_words, strict=True)):
        if index and raw[:1].isupper() and not raw.isupper():
            words.append(folded)
            continue
        words.append(_WORD_RE.sub(lambda m: _fix(m[0]), folded))
    return " ".join(words)
