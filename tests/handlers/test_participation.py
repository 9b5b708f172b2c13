"""The participation ledger fed by the real command handlers (SQLite and PostgreSQL): every way
of taking part writes it, it gives the counts the previous UNION over every activity table gave,
and an activity withdrawn later still counts for the year it happened in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.handlers.conftest import ALICE, COORDINATOR, Harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.seed_year import PARIS
from tests.handlers.test_polls import OPEN, native_vote, slot_events
from tests.report_facts import year_bounds, year_facts
from tests.storage.union_reference import (
    ledger_people,
    union_figures,
    union_people,
)

BOB, CAROL, DAVE = "@bob:example.org", "@carol:example.org", "@dave:example.org"
ERIN, FRANK, GRACE = "@erin:example.org", "@frank:example.org", "@grace:example.org"
HUGO, IVAN = "@hugo:example.org", "@ivan:example.org"
YEARS = range(2098, 2102)
PARTICIPATION = ("participants_year", "participants_total", "new_participants", "cumulative",
                 "by_territory", "by_category")


async def rows(bot: Harness, *tables: str) -> list[int]:
    async with bot.db.transaction() as repos:
        return [int(await repos.session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
                for table in tables]


async def a_year_of_every_activity(bot: Harness) -> str:
    """2099: a group created, joined, a referent named; a poll voted by command and natively; a
    rencontre answered and attended. Returns the first native poll's event (for more votes).
    The coordinator only organises (a poll, a rencontre, the attendance): not counted."""
    await bot.command("!profil territoire nord")
    await bot.command("!projet creer Atelier vélo --theme mobilité --territoire sud")
    await bot.command("!projet rejoindre atelier-velo", sender=BOB)
    await bot.command("!projet rejoindre atelier-velo", sender=CAROL)
    await bot.command(f"!projet referent atelier-velo {CAROL}")
    sent = await bot.command(OPEN, sender=COORDINATOR)
    start = slot_events(sent)[0]
    await bot.command("!vote 1 1+ 2?", sender=DAVE)
    assert await native_vote(bot, start, ERIN, "yes", bot.clock.now(), "$erin1")  # Erin neither
    await bot.command("!rencontre planifier jeudi 18h30 --lieu Embrun --territoire nord",
                      sender=COORDINATOR)
    await bot.command("!rencontre present 1", sender=FRANK)
    bot.clock.set(datetime(2099, 1, 10, 9, 0, tzinfo=UTC))
    await bot.command(f"!rencontre presences 1 {FRANK} {GRACE}", sender=COORDINATOR)  # nor Grace
    # Every activity went through (a refused command would leave no row).
    assert await rows(bot, "group_members", "poll_votes", "meeting_rsvps",
                      "meeting_attendance") == [3, 3, 1, 2]
    return start.event_id


async def test_every_way_of_taking_part_feeds_the_ledger_as_the_union_counted(
        bot: Harness) -> None:
    first_poll = await a_year_of_every_activity(bot)
    # New Year's night in Paris, still 2099 in UTC: 2100's.
    bot.clock.set(datetime(2100, 1, 1, 0, 30, tzinfo=PARIS))
    await bot.command("!projet rejoindre atelier-velo", sender=HUGO)
    await bot.command("!ping", sender=BOB)  # not an act of participation
    await bot.command("!projet liste", sender=BOB)  # nor that
    start = next(s for s in bot.transport.sent if s.event_id == first_poll)
    assert await native_vote(bot, start, IVAN, "no", bot.clock.now(), "$ivan1")

    async with bot.db.transaction() as repos:
        assert await repos.participants.active_in(2099) == {ALICE, BOB, CAROL, DAVE, ERIN,
                                                            FRANK, GRACE}
        assert await repos.participants.active_in(2100) == {HUGO, IVAN}
        for year in YEARS:
            start_at, end_at = year_bounds(year, PARIS)
            assert (await ledger_people(repos.session, year)
                    == await union_people(repos.session, year, PARIS, acts=True)), year
            facts = await year_facts(repos, year, PARIS)
            assert facts == await union_figures(repos, year, PARIS, acts=True), year
            # A period of whole years counts from the spans; the same days given as a period
            # of days (``--du``/``--au``) count from the ledger's times: the same people.
            for whole in (True, False):
                assert await repos.report.participants(start_at, end_at, (year, year),
                                                       whole) == facts.participants, (year, whole)
        figures = await year_facts(repos, 2100, PARIS)
    assert (figures.participants_year, figures.participants_total, figures.new_participants) == (
        2, 9, 2)


async def test_an_activity_withdrawn_later_still_counts_for_its_year(bot: Harness) -> None:
    first_poll = await a_year_of_every_activity(bot)
    async with bot.db.transaction() as repos:
        before = await year_facts(repos, 2099, PARIS)
    assert before.participants_year == 7

    bot.clock.set(datetime(2100, 2, 1, 9, 0, tzinfo=UTC))
    start = next(s for s in bot.transport.sent if s.event_id == first_poll)
    assert await native_vote(bot, start, ERIN, None, bot.clock.now(), "$erin2")  # withdrawn
    await bot.command("!projet quitter atelier-velo", sender=CAROL)
    await bot.command("!vote 1 retirer", sender=DAVE)
    await bot.command(f"!rencontre presences 1 {FRANK}", sender=COORDINATOR)  # Grace struck off

    async with bot.db.transaction() as repos:
        after = await year_facts(repos, 2099, PARIS)
        union = await union_figures(repos, 2099, PARIS, acts=True)
        assert await repos.participants.active_in(2099) == {ALICE, BOB, CAROL, DAVE, ERIN,
                                                            FRANK, GRACE}
        assert await repos.participants.active_in(2100) == {DAVE, ERIN}  # votes withdrawn
    for name in PARTICIPATION:
        assert getattr(after, name) == getattr(before, name), name
    assert after.attended == before.attended - 1  # who came to a rencontre: the list as it is
    # The previous UNION forgot them: Erin's vote moved to 2100, Carol and Grace left no row.
    assert union.participants_year == before.participants_year - 3
