"""Placing what the grammar read in time: slots, moments (reminders, deadlines), delays.

``grammar.scan`` recognises the parts of the text; here their values are checked and placed in
time, so that ``split_moment`` can find the longest leading part that *looks like* a date and
then report what is wrong with it rather than silently reading a shorter part. A refusal says
what was understood and, when there is one, the closest valid reading (« le 16 avril 2027 est un
vendredi : vouliez-vous dire `jeudi 15 avril` ou `vendredi 16 avril` ? »).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from commands.dates._common import (
    AFTERNOON_PARTS,
    MAX_INPUT,
    PARIS,
    PARTS_OF_DAY,
    QUANTITY,
    WEEKDAY_NAMES,
    DateError,
    Slot,
    aware_now,
    check_length,
    is_after,
    normalize,
    quoted,
    wall_clock,
)
from commands.dates.format import day_and_month, format_moment, format_weekday_day
from commands.dates.grammar import NoMatch, Parts, scan
from commands.dates.typos import normalize_words

MAX_AHEAD = relativedelta(years=2)
MAX_SPLIT_WORDS = 12
_DAY = timedelta(days=1)


def read(text: str) -> Parts | None:
    """The parts of a text (``None`` when it does not have the shape of a date)."""
    try:
        return scan(normalize_words(text))
    except NoMatch:
        return None


# --- placing the parts in time ---------------------------------------------------------------


def minutes_of(hour_minute: tuple[int, int], text: str) -> int:
    """Minutes from the start of the day; midnight (« minuit », ``24h``) is 1440: the day's end."""
    hour, minute = hour_minute
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        raise DateError("dates.bad_time", value=quoted(text))
    return hour * 60 + minute


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit_day(ymd: tuple[int | None, int, int], today: date, text: str, language: str) -> date:
    year, month, day = ymd
    if not (1 <= month <= 12 and 1 <= day <= 31) or _valid_date(2028, month, day) is None:
        raise DateError("dates.bad_date", value=quoted(text))
    if year is None:  # the next occurrence, today included
        year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    found = _valid_date(year, month, day)
    if found is None:  # 29 February of a year that is not a leap year: say so, never move on
        raise DateError("dates.not_leap_year", value=quoted(text), year=year,
                        before=_day_month(date(year, 2, 28), language),
                        after=_day_month(date(year, 3, 1), language))
    return found


def _day_month(day: date, language: str) -> str:
    return day_and_month(datetime.combine(day, time(12), PARIS), language, PARIS)


def _bare_day(day: int, today: date, text: str) -> date:
    if not 1 <= day <= 31:
        raise DateError("dates.bad_date", value=quoted(text))
    first = today.replace(day=1)
    for months in range(13):
        month_start = first + relativedelta(months=months)
        found = _valid_date(month_start.year, month_start.month, day)
        if found is not None and found >= today:
            return found
    raise DateError("dates.bad_date", value=quoted(text))  # pragma: no cover - 31 comes back


def nth_weekday_of(year: int, month: int, nth: int, weekday: int) -> date | None:
    """The ``nth`` (1 to 4, or -1 for the last) ``weekday`` of a month."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if date(year, month, d).weekday() == weekday]
    return date(year, month, days[nth if nth < 0 else nth - 1]) if -len(days) <= nth <= len(days) \
        else None


def _nth_day(parts: Parts, today: date, text: str, start: int, now: datetime, tz: ZoneInfo,
             language: str) -> date:
    assert parts.nth_weekday is not None
    nth, weekday, month, year, ahead = parts.nth_weekday
    if month is None:  # « le dernier jeudi du mois »: this month (« du mois prochain »: the next)
        first = today.replace(day=1) + relativedelta(months=ahead)
        found = nth_weekday_of(first.year, first.month, nth, weekday)
        assert found is not None
        moment = _at(found, start, tz)
        if not is_after(moment, now):
            following = today.replace(day=1) + relativedelta(months=ahead + 1)
            other = nth_weekday_of(following.year, following.month, nth, weekday)
            assert other is not None
            raise DateError("dates.in_past_closest", value=quoted(text),
                            when=format_moment(moment, _lang(language), tz),
                            suggestion=format_moment(_at(other, start, tz), _lang(language), tz))
        return found
    years = [year] if year is not None else [today.year, today.year + 1]
    for candidate in years:
        found = nth_weekday_of(candidate, month, nth, weekday)
        if found is not None and (year is not None or is_after(_at(found, start, tz), now)):
            return found
    raise DateError("dates.in_past", value=quoted(text), when=text)  # pragma: no cover


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The wall-clock time ``minutes`` after the start of ``day`` (1440: the next midnight)."""
    extra, rest = divmod(minutes, 1440)
    naive = datetime.combine(day + timedelta(days=extra), time(rest // 60, rest % 60))
    return wall_clock(naive, tz)


def afternoon(hour_minute: tuple[int, int], part: str | None) -> tuple[int, int]:
    """After « après-midi » / « soir », 1h to 11h is in the afternoon (« ce soir 8h » is 20h)."""
    if part in AFTERNOON_PARTS and 1 <= hour_minute[0] <= 11:
        return hour_minute[0] + 12, hour_minute[1]
    return hour_minute


def _times(parts: Parts, text: str) -> tuple[int | None, int | None]:
    """Start and end, in minutes from the start of the day, from the time, range or part."""
    if parts.start is None:
        if parts.part is None:
            return None, None
        start_time, end_time = PARTS_OF_DAY[parts.part]
        return start_time.hour * 60 + start_time.minute, end_time.hour * 60 + end_time.minute
    start = minutes_of(afternoon(parts.start, parts.part), text)
    end = minutes_of(afternoon(parts.end, parts.part), text) if parts.end is not None else None
    if end is not None and end <= start:
        raise DateError("dates.range_backwards", value=quoted(text))
    return start, end


@dataclass(frozen=True)
class _Placed:
    start: datetime
    end: datetime | None


def _weekday_mismatch(day: date, written: int, ahead: Callable[[date], bool], text: str,
                      language: str) -> DateError:
    """« le 16 avril 2027 est un vendredi, pas un jeudi : vouliez-vous dire `jeudi 15 avril` ou
    `vendredi 16 avril` ? » (the nearest day with the written weekday that is still ``ahead``)."""
    back = (day.weekday() - written) % 7
    nearest = day - timedelta(days=back)
    if back > 3 or not ahead(nearest):
        nearest = day + timedelta(days=7 - back)
    lang = _lang(language)
    return DateError("dates.weekday_mismatch", value=quoted(text), date=_day_month(day, language),
                     weekday=WEEKDAY_NAMES[lang][day.weekday()], written=WEEKDAY_NAMES[lang][written],
                     nearest=format_weekday_day(nearest, lang), actual=format_weekday_day(day, lang))


def _place(parts: Parts, text: str, now: datetime, tz: ZoneInfo, *, slot: bool,
           default_time: time | None, language: str) -> _Placed:
    """The start (and the end, for a range or a part of the day) of what ``parts`` says, checked."""
    local_now = aware_now(now, tz)
    today = local_now.date()
    _refuse_unplaceable(parts, text)
    start, end = _times(parts, text)
    if parts.clock_delta is not None:  # dans 10 min, dans 2 heures: elapsed time, to the second
        if parts.start is not None or parts.part is not None or parts.weekday is not None:
            raise DateError("dates.unparseable", value=quoted(text))
        later = (now.astimezone(UTC) + parts.clock_delta).astimezone(tz)
        return _checked(_Placed(later, None), now, tz, text, language, None)
    start = _start_of(parts, start, local_now, slot=slot, default_time=default_time, text=text)
    day, from_today = _day_of(parts, today, text, start, now, tz, language)
    day = _with_weekday(parts, day, today, start, now, tz, text, language)
    if day is None:  # a time alone: today, or tomorrow once past (not for a slot)
        if slot or parts.same_time:
            raise DateError("dates.missing_date", value=quoted(text))
        day = today
        if not is_after(_at(day, start, tz), now):
            day += _DAY
    placed = _Placed(_at(day, start, tz), _at(day, end, tz) if end is not None else None)
    return _checked(placed, now, tz, text, language, start if from_today else None)


def _refuse_unplaceable(parts: Parts, text: str) -> None:
    """Something past, a repetition, several days or no day said: not one moment."""
    if parts.past is not None:
        raise DateError("dates.past_day", value=quoted(text))
    if parts.rule is not None:  # a repetition is read by ``recurrence``, not here
        raise DateError("dates.unparseable", value=quoted(text))
    if parts.several_days:
        raise DateError("dates.several_days", value=quoted(text))
    if parts.vague or (parts.week_of_next and parts.weekday is None):
        raise DateError("dates.missing_date", value=quoted(text))


def _start_of(parts: Parts, start: int | None, local_now: datetime, *, slot: bool,
              default_time: time | None, text: str) -> int:
    """The start, in minutes from the start of the day: as said; now's for « à la même heure »
    and a delay in days; else ``default_time`` (a slot needs a time)."""
    if parts.same_time:
        return local_now.hour * 60 + local_now.minute
    if start is not None:
        return start
    if slot:
        raise DateError("dates.missing_time", value=quoted(text))
    if parts.delta is not None:  # dans 2 jours: the same time of day
        return local_now.hour * 60 + local_now.minute
    default = default_time or time(9, 0)
    return default.hour * 60 + default.minute


def _day_of(parts: Parts, today: date, text: str, start: int, now: datetime, tz: ZoneInfo,
            language: str) -> tuple[date | None, bool]:
    """The day said (by a delay, a date, a bare day, an nth weekday or a relative day; ``None``:
    none), and whether it is today as written."""
    if parts.delta is not None:
        if parts.weekday is not None:
            raise DateError("dates.unparseable", value=quoted(text))
        return today + parts.delta, False
    if parts.ymd is not None:
        day = _explicit_day(parts.ymd, today, text, language)
    elif parts.bare_day is not None:
        day = _bare_day(parts.bare_day, today, text)
    elif parts.nth_weekday is not None:
        return _nth_day(parts, today, text, start, now, tz, language), False
    elif parts.relative_days is not None:
        day = today + timedelta(days=parts.relative_days + 7 * parts.weeks_after)
    else:
        return None, False
    return day, day == today


def _with_weekday(parts: Parts, day: date | None, today: date, start: int, now: datetime,
                  tz: ZoneInfo, text: str, language: str) -> date | None:
    """``day`` checked against the weekday written with it; with no day, the weekday's next
    date (« lundi prochain », « vendredi en huit », « jeudi de la semaine prochaine »)."""
    if parts.weekday is None:
        return day
    if day is not None:
        if day.weekday() != parts.weekday:
            raise _weekday_mismatch(day, parts.weekday,
                                    lambda other: is_after(_at(other, start, tz), now),
                                    text, language)
        return day
    ahead = (parts.weekday - today.weekday()) % 7
    if parts.week_of_next:
        ahead = 7 - today.weekday() + parts.weekday
    elif parts.weeks_after:
        ahead += 7 * parts.weeks_after
    elif ahead == 0 and (parts.next_week or not is_after(_at(today, start, tz), now)):
        ahead = 7
    return today + timedelta(days=ahead)


def _lang(language: str) -> str:
    return language if language in WEEKDAY_NAMES else "fr"


def _checked(placed: _Placed, now: datetime, tz: ZoneInfo, text: str, language: str,
             today_at: int | None) -> _Placed:
    """Refuses a start in the past (offering tomorrow at the same time when the day was today)
    or more than two years ahead."""
    if not is_after(placed.start, now):
        when = format_moment(placed.start, _lang(language), tz)
        if today_at is not None:
            tomorrow = _at(aware_now(now, tz).date() + _DAY, today_at, tz)
            raise DateError("dates.in_past_closest", value=quoted(text), when=when,
                            suggestion=format_moment(tomorrow, _lang(language), tz))
        raise DateError("dates.in_past", value=quoted(text), when=when)
    if is_after(placed.start, aware_now(now, tz) + MAX_AHEAD):
        raise DateError("dates.too_far", value=quoted(text))
    return placed


def _parse(text: str) -> Parts:
    check_length(text)
    parts = read(text)
    if parts is None:
        found = leading_parts(text)
        if found is not None and found[2]:  # say what was understood, and what was not
            raise DateError("dates.unparseable_rest", value=quoted(text), understood=quoted(found[0]),
                            rest=quoted(found[2]))
        raise DateError("dates.unparseable", value=quoted(text))
    return parts


def parse_slot(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
               default_duration: timedelta = timedelta(hours=2), language: str = "fr") -> Slot:
    """A candidate meeting time: « mardi 14 janvier 18h30 », « 14/01 18h30-20h », « demain soir »…

    The end is the end of the range, else the end of the part of the day, else ``start +
    default_duration``. ``language`` is only used for the words put into error messages.
    """
    parts = _parse(text)
    placed = _place(parts, text, now, tz, slot=True, default_time=None, language=language)
    end = placed.end
    if end is None:  # a default duration is elapsed time (two hours across a DST change too)
        end = (placed.start.astimezone(UTC) + default_duration).astimezone(tz)
    return Slot(placed.start, end)


def parse_moment(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                 default_time: time = time(9, 0), language: str = "fr") -> datetime:
    """A point in time: « demain 9h », « dans 2 jours », « lundi prochain », « le 12/01 à 14h »…

    A range is refused (use ``parse_slot``); a part of the day means its start (« ce soir »
    is 18h30); a day without a time is at ``default_time``; « dimanche minuit » is the end of
    Sunday.
    """
    parts = _parse(text)
    if parts.end is not None:
        raise DateError("dates.unparseable", value=quoted(text))
    return _place(parts, text, now, tz, slot=False, default_time=default_time,
                  language=language).start


def place_moment(parts: Parts, text: str, *, now: datetime, tz: ZoneInfo, default_time: time,
                 language: str) -> datetime:
    """The moment of parts already read (``split_moment``, ``split_reminder``)."""
    if parts.end is not None:  # a range is not a moment: say so rather than read less
        raise DateError("dates.unparseable", value=quoted(text))
    return _place(parts, text, now, tz, slot=False, default_time=default_time,
                  language=language).start


_WORD = re.compile(r"\S+")
_QUANTITY_AFTER = re.compile(rf"{QUANTITY}(?![a-z])", re.ASCII)
_ENDS_WITH_NUMBER = re.compile(r"[\s.,]\d{1,2}$")


def cuts_a_quantity(head: str, rest: str) -> bool:
    """« demain 8h 30 min de yoga »: ``30`` belongs to « 30 min », not to the time."""
    return bool(_ENDS_WITH_NUMBER.search(head)) and bool(_QUANTITY_AFTER.match(normalize(rest)))


def leading_words(text: str, limit: int = MAX_SPLIT_WORDS) -> list[int]:
    """End offsets of the first ``limit`` words of ``text`` that fit in ``MAX_INPUT`` characters."""
    ends: list[int] = []
    for match in _WORD.finditer(text):
        if len(ends) >= limit or match.end() > MAX_INPUT:
            break
        ends.append(match.end())
    return ends


def leading_parts(text: str, reader: Callable[[str], Parts | None] | None = None,
                  ) -> tuple[str, Parts, str] | None:
    """The longest leading words of ``text`` that the grammar reads (``reader``: ``read``
    unless told), with their parts and the rest of the text; ``None`` if none does."""
    stripped = text.strip()
    if not stripped:
        raise DateError("dates.empty")
    for end in reversed(leading_words(stripped)):
        head, rest = stripped[:end], stripped[end:].lstrip(" \t\n-–—:;,.")
        parts = (reader or read)(head)
        if parts is not None and not cuts_a_quantity(head, rest) \
                and not (rest and parts.lone_short_weekday()):
            return head, parts, rest
    return None


def split_moment(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                 default_time: time = time(9, 0), language: str = "fr") -> tuple[datetime, str]:
    """For ``!rappel reporter <n> <quand>``: the longest leading part that reads as a moment, and
    the rest.

    The longest part that has the shape of a date wins, even when its values are wrong, so that
    « mardi 14 janvier 18h30 réunion » with a wrong weekday is refused rather than read as « mardi ».
    """
    found = leading_parts(text)
    if found is None:
        raise DateError("dates.unparseable", value=quoted(text.strip()))
    head, parts, rest = found
    return place_moment(parts, head, now=now, tz=tz, default_time=default_time,
                        language=language), rest
