"""Each participant's span of participation (first and last years, earliest and latest times),
kept with the ledger as people take part, and the yearly counts read from it (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from storage import report_statements
from storage.db import Database
from storage.repositories import Repositories

ANN, BEN, CLEA, DAN = "@ann:x", "@ben:x", "@clea:x", "@dan:x"


def at(year: int, month: int = 6, day: int = 1) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


NOT_SAID = "non-renseigne"


def year(number: int) -> tuple[datetime, datetime]:
    return datetime(number, 1, 1, tzinfo=UTC), datetime(number + 1, 1, 1, tzinfo=UTC)


async def took_part(repos: Repositories, number: int,
                    whole: bool = True) -> dict[tuple[str, str], tuple[int, int]]:
    """The report's count of the year ``number``: (territory, category) → (people, of whom
    for the first time), read from the spans (a period of whole years) or from the ledger's
    times (a period of days)."""
    return await repos.report.participants(*year(number), (number, number), whole)


async def span(db: Database, user_id: str) -> tuple[object, ...]:
    async with db.transaction() as repos:
        person = await repos.participants.get(user_id)
        assert person is not None
        return (person.first_year, person.last_year, person.first_seen, person.last_seen)


async def test_a_span_widens_whatever_order_the_activities_arrive_in(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.participants.took_part([ANN, BEN], at(2031), 2031)
        await repos.participants.took_part([ANN], at(2030, 3), 2030)  # attendance of a past one
        await repos.participants.took_part([ANN, ANN], at(2031, 9), 2031)
        await repos.participants.took_part([ANN], at(2031, 2), 2031)
        await repos.participants.took_part([], at(2040), 2040)
    assert await span(db, ANN) == (2030, 2031, at(2030, 3), at(2031, 9))
    assert await span(db, BEN) == (2031, 2031, at(2031), at(2031))


async def test_a_profile_before_any_activity_takes_the_first_activitys_time(
        db: Database) -> None:
    async with db.transaction() as repos:
        await repos.participants.set_profile(ANN, at(2031, 1), territory="nord")
    assert await span(db, ANN) == (None, None, at(2031, 1), at(2031, 1))
    async with db.transaction() as repos:
        assert await took_part(repos, 2031) == {}  # a profile is no activity
        assert await repos.report.participants_until(year(2031)[1]) == 0
        await repos.participants.took_part([ANN], at(2031, 5), 2031)
    assert await span(db, ANN) == (2031, 2031, at(2031, 5), at(2031, 5))
    async with db.transaction() as repos:
        person = await repos.participants.get(ANN)
        assert person is not None and person.territory == "nord"


async def test_the_yearly_counts_come_from_the_spans_and_the_ledger(db: Database) -> None:
    async with db.transaction() as repos:
        people = repos.participants
        await people.took_part([ANN], at(2030), 2030)
        await people.took_part([ANN], at(2032), 2032)  # not in 2031
        await people.took_part([BEN, CLEA], at(2031, 4), 2031)
        await people.took_part([BEN], at(2032), 2032)  # in 2031 and after
        await people.took_part([DAN], at(2029), 2029)
        await people.took_part([DAN], at(2031, 8), 2031)
        await people.set_profile(DAN, at(2031, 8), territory="sud")
        for whole in (True, False):
            # Active in 2031: Ben and Clea (new, no profile), Dan (sud, since 2029); not Ann.
            assert await took_part(repos, 2031, whole) == {(NOT_SAID, NOT_SAID): (2, 2),
                                                           ("sud", NOT_SAID): (1, 0)}, whole
            assert await took_part(repos, 2032, whole) == {(NOT_SAID, NOT_SAID): (2, 0)}, whole
            assert await took_part(repos, 2028, whole) == {}, whole
        # Everyone who had taken part before each edge: Dan, Dan and Ann, then all four.
        edges = [at(2030, 1, 1), at(2031, 1, 1), at(2031, 5, 1), at(2031, 12, 1)]
        assert [await repos.report.participants_until(edge) for edge in edges] == [1, 2, 4, 4]


async def test_the_yearly_counts_read_the_profile_index_not_the_rows(tmp_path: Path) -> None:
    """The report's pass over the participants (``!stats``) goes through
    ``ix_participants_profile_span`` (SQLite's plan: no scan of the table, no sort for the
    grouping), for a period of whole years as for one of days."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    await db.upgrade()
    try:
        start, end = year(2031)
        for whole in (True, False):
            sql = str(report_statements.participants(whole).params(
                b_start=start, b_end=end, b_first=2031, b_last=2031).compile(
                dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            async with db.transaction() as repos:
                plan = [row[3] for row in
                        await repos.session.execute(text("EXPLAIN QUERY PLAN " + sql))]
            assert any("USING INDEX ix_participants_profile_span" in step
                       for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan
    finally:
        await db.dispose()


async def test_an_activity_that_changes_no_span_writes_nothing(db: Database) -> None:
    """The upsert leaves the row alone when it would not change (no new row version to vacuum:
    a burst of votes at one time wrote each voter's row once per vote)."""
    from storage import statements

    row = {"user_id": ANN, "first_seen": at(2031, 5), "last_seen": at(2031, 5),
           "first_year": 2031, "last_year": 2031}
    async with db.transaction() as repos:
        upsert = statements.participant_took_part(statements.dialect_of(repos.session))
        assert (await repos.session.execute(upsert, row)).rowcount == 1  # created
        assert (await repos.session.execute(upsert, row)).rowcount == 0  # the same: untouched
        inside = {**row, "first_seen": at(2031, 6), "last_seen": at(2031, 4)}
        assert (await repos.session.execute(upsert, inside)).rowcount == 0  # within the span
        later = {**row, "last_seen": at(2031, 7)}
        assert (await repos.session.execute(upsert, later)).rowcount == 1
    assert await span(db, ANN) == (2031, 2031, at(2031, 5), at(2031, 7))
