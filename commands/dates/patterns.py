"""The shapes of the date grammar (``commands.dates.grammar``): the words people write for
numbers, hours, days, repetitions, and the patterns tried at each position of a text, in order.
"""

from __future__ import annotations

import re

from commands.dates._common import (
    MERIDIEM,
    MONTH_RE,
    PART_RE,
    SPOKEN,
    TIME_RE,
    WEEKDAY_RE,
    WEEKDAY_WORDS,
    alternation,
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
MINUTE_WORDS = {"cinq": 5, "dix": 10, "quinze": 15, "vingt": 20, "vingt-cinq": 25, "trente": 30,
                 "quarante": 40, "quarante-cinq": 45, "cinquante": 50}
_UNITS = (r"secondes?|secs?|s|minutes?|mins?|mn|heures?|hours?|hrs?|h|jours?|days?|j|semaines?|weeks?"
          r"|sem|mois|months?|annees?|ans?|years?")
RELATIVE_DAYS = {"aujourd'hui": 0, "aujourdhui": 0, "aujourd hui": 0, "auj": 0, "ajd": 0, "aujd": 0,
                  "today": 0, "demain": 1, "tomorrow": 1, "apres-demain": 2, "apres demain": 2,
                  "day after tomorrow": 2, "the day after tomorrow": 2}
_WEEKS_AFTER = r"en (?P<en>huit|8|quinze|15)"
_NTH_WORDS = (r"(?:1er|1re|1ere|1e|premiere?s?|first|2e|2eme|2nd|deuxiemes?|second|seconde|3e|3eme"
              r"|3rd|troisiemes?|third|4e|4eme|4th|quatriemes?|fourth|derniere?s?|last)")
_NTH = rf"(?P<nth>{_NTH_WORDS})"
NTH_VALUES = {"1": 1, "p": 1, "f": 1, "2": 2, "d": 2, "s": 2, "3": 3, "t": 3, "4": 4, "q": 4}
_FULL_WEEKDAYS = alternation(word for word in WEEKDAY_WORDS if len(word) >= 5)
_EVERY = r"(?:chaque|chq|tous les|toutes les|tt les|ts les|every|each)"
_DAYS = rf"(?:{WEEKDAY_RE})s?\.?"
_DAY_JOIN = rf"(?:, ?| et | and | & |, et )(?:le |les )?{_DAYS}"
_DAY_LIST = rf"{_DAYS}(?:{_DAY_JOIN})*"
_OF_MONTH = r"(?:du mois|de chaque mois|de tous les mois|of the month|of every month|of each month)"
_OF_EACH_MONTH = r"(?:de chaque mois|de tous les mois|of every month|of each month)"
_MONTHDAY_WORDS = r"(?:\d{1,2}(?:ers?|e|st|nd|rd|th)?|premier)"
RULE_PARTS = {"soir": "soir", "soiree": "soir", "matin": "matin", "matinee": "matin",
               "midi": "midi", "apres-midi": "apres-midi", "aprem": "apres-midi",
               "evening": "soir", "morning": "matin", "night": "soir"}
_WEEKEND = r"(?:le |les )?(?:week-?ends?|weekends?|samedis? et dimanches?)"
_EXCEPT = rf"(?:sauf|except|hors) (?:(?P<weekend>{_WEEKEND})|(?:le |les )?(?P<except>{_DAY_LIST}))"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern}){_END}", re.ASCII)


def number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def weekday_of(word: str) -> int:
    word = word.rstrip(".")
    return WEEKDAY_WORDS[word] if word in WEEKDAY_WORDS else WEEKDAY_WORDS[word[:-1]]


def nth_value(word: str) -> int:
    if word.startswith(("dernier", "last")):
        return -1
    return NTH_VALUES[word[0]]


def day_list(text: str) -> tuple[int, ...]:
    words = [w.removeprefix("les ").removeprefix("le ") for w in re.split(r", et |, ?| et | and | & ", text)
             if w]
    return tuple(sorted({weekday_of(w) for w in words}))


# Tried in this order at each position; the first that matches and can be taken is taken.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
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
        rf"{_EVERY} (?:(?:jours?|days?|(?P<part>{alternation(RULE_PARTS)})s?))"
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
    ("relative_day", _rx(rf"(?:d')?(?P<rd>{alternation(RELATIVE_DAYS)})(?: {_WEEKS_AFTER})?")),
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
                       rf"(?: (?P<m>{alternation(MINUTE_WORDS)})|(?P<rest>{SPOKEN}))?(?P<mer>{MERIDIEM})?")),
    ("bare_day", _rx(r"(?P<le>le |the )?(?P<d>\d{1,2})(?:er|st|nd|rd|th)?(?: du mois| of the month)?")),
    ("suffix", _rx(r"pile|precises?|tapantes?|petantes?|environ|sharp")),
    ("filler", _rx(r"a partir de|jusqu'a|jusqu'au|a|at|on|vers|around|des|le|the|pour|for|from|until")),
)
SEPARATOR = re.compile(r"(?:[ ,;:!?()]|\.(?=[ ,;:!?()]|$)|(?<= )-(?= ))+")
