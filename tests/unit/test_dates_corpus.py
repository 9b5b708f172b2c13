"""The date corpus: phrases as club members type them, with what they mean, read by one test.

``data/dates_corpus.tsv`` has one phrase a line, tab-separated:

    reference   reader   phrase   expected   [rest of the reminder's text]

* reference: a fixed « now » (``REFERENCES``): an ordinary Monday, both DST nights, year end;
* reader: ``creneau`` (a poll or meeting slot: ``parse_slot``), ``moment`` (``parse_moment``),
  ``cloture`` (a poll's deadline: ``parse_moment`` too), ``rappel`` (what ``!rappel`` gets:
  ``split_reminder``, with the text left in the fifth column), ``regle`` (what ``!rappel chaque``
  gets: ``parse_recurrence``);
* expected: a Paris wall-clock time ``2026-11-24 18:00`` (seconds and an explicit offset where
  they matter: ``2027-10-31 02:30+01:00``), a slot ``2026-11-26 18:00/20:00`` (or an end on
  another day: ``…/2026-11-29 00:00``), a rule ``FREQ=WEEKLY;BYDAY=WE|19:00``, or a refusal
  ``!dates.weekday_mismatch ~jeudi 15 avril ~vendredi 16 avril``: its key, and words the French
  message must contain (the closest reading offered).

Grow it with every phrase a member wrote that was misread. ``python -m tests.unit.test_dates_corpus
[FILE]`` prints the pass rate of a corpus in this format (the held-out one, for instance).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commands.dates import (
    PARIS,
    DateError,
    Recurrence,
    parse_moment,
    parse_recurrence,
    parse_slot,
    split_reminder,
    wall_clock,
)
from commands.i18n import translate

CORPUS = Path(__file__).parent / "data" / "dates_corpus.tsv"
REFERENCES = {
    "LUN": wall_clock(datetime(2026, 11, 23, 10, 0), PARIS),  # an ordinary Monday morning
    "LUN37": wall_clock(datetime(2026, 11, 23, 10, 0, 37), PARIS),  # …with seconds
    "ETE": wall_clock(datetime(2027, 3, 27, 22, 30), PARIS),  # Saturday before summer time
    "P_NUIT": wall_clock(datetime(2027, 3, 28, 1, 30), PARIS),  # half an hour before the gap
    "HIVER": wall_clock(datetime(2027, 10, 30, 22, 30), PARIS),  # Saturday before winter time
    "A_NUIT": wall_clock(datetime(2027, 10, 31, 1, 30), PARIS),  # before the repeated hour
    "FIN": wall_clock(datetime(2026, 12, 31, 22, 0), PARIS),  # New Year's Eve
}
READERS = ("creneau", "moment", "cloture", "rappel", "regle")


@dataclass(frozen=True)
class Case:
    line: int
    reference: str
    reader: str
    phrase: str
    expected: str
    rest: str

    def __str__(self) -> str:
        return f"{self.line}:{self.reader}:{self.phrase}"


def load(path: Path = CORPUS) -> list[Case]:
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) not in (4, 5) or fields[0] not in REFERENCES or fields[1] not in READERS:
            raise ValueError(f"{path}:{number}: malformed line {raw!r}")
        cases.append(Case(number, fields[0], fields[1], fields[2], fields[3],
                          fields[4] if len(fields) == 5 else ""))
    return cases


def _instant(text: str) -> datetime:
    """``2026-11-24 18:00`` (Paris wall clock), ``…:37`` seconds, ``…+01:00`` an explicit offset."""
    if text[-6] in "+-" and text[-3] == ":":
        return datetime.fromisoformat(text).astimezone(PARIS)
    return wall_clock(datetime.fromisoformat(text), PARIS)


def _same(found: datetime, expected: datetime) -> bool:
    """The same instant and the same wall clock (and offset)."""
    return found == expected and found.utcoffset() == expected.utcoffset() \
        and found.replace(tzinfo=None) == expected.replace(tzinfo=None)


def check(case: Case) -> str | None:
    """``None`` if the corpus line is read as expected, else what was read instead."""
    now = REFERENCES[case.reference]
    refusal = case.expected.startswith("!")
    try:
        if case.reader == "creneau":
            slot = parse_slot(case.phrase, now=now, tz=PARIS)
            if refusal:
                return f"read {slot}"
            start_text, _, end_text = case.expected.partition("/")
            end_text = end_text if " " in end_text else f"{start_text[:10]} {end_text}"
            ok = _same(slot.start, _instant(start_text)) and _same(slot.end, _instant(end_text))
            return None if ok else f"read {slot}"
        if case.reader in ("moment", "cloture"):
            moment = parse_moment(case.phrase, now=now, tz=PARIS)
            return None if not refusal and _same(moment, _instant(case.expected)) else f"read {moment}"
        if case.reader == "regle":
            rule = parse_recurrence(case.phrase, now=now, tz=PARIS).to_rule()
            return None if rule == case.expected else f"read {rule}"
        when, rest = split_reminder(case.phrase, now=now, tz=PARIS)
        if isinstance(when, Recurrence):
            ok = when.to_rule() == case.expected
        else:
            ok = not refusal and not case.expected.startswith("FREQ") \
                and _same(when, _instant(case.expected))
        return None if ok and rest == case.rest else f"read {when} | {rest!r}"
    except DateError as error:
        key, *words = [part.strip() for part in case.expected.split("~")]
        message = translate("fr", error.message_key, **error.values)
        if key == "!" + error.message_key and all(word in message for word in words):
            return None
        return f"refused {error.message_key}: {message}"


CASES = load()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_corpus(case: Case) -> None:
    assert check(case) is None, check(case)


def test_the_corpus_is_large_and_covers_every_reader_and_reference() -> None:
    assert len(CASES) >= 400
    assert {case.reader for case in CASES} == set(READERS)
    assert {case.reference for case in CASES} == set(REFERENCES)
    assert sum(case.expected.startswith("!") for case in CASES) >= 60  # refusals
    assert len({(case.reference, case.reader, case.phrase) for case in CASES}) == len(CASES)


def test_the_corpus_line_format_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("LUN\tslot\tdemain 18h\t2026-11-24 18:00\n", encoding="utf-8")
    with pytest.raises(ValueError, match="malformed"):
        load(bad)
    second, first = _instant("2027-10-31 02:30+01:00"), _instant("2027-10-31 02:30")
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert not _same(second, first)


if __name__ == "__main__":  # pragma: no cover - a measuring tool
    cases = load(Path(sys.argv[1])) if len(sys.argv) > 1 else CASES
    misses = [(case, check(case)) for case in cases]
    misses = [(case, why) for case, why in misses if why is not None]
    for case, why in misses:
        print(f"MISS {case}: {why}")
    print(f"{len(cases) - len(misses)}/{len(cases)} read as expected "
          f"({100 * (len(cases) - len(misses)) / len(cases):.1f} %)")
