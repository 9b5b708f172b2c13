"""Alembic migrations: an empty database goes to head, the schema matches the models, and a
database with activity at 0007 keeps its yearly figures through 0008 (the participation ledger)."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, alembic_config
from storage.models import (
    AuditEntry,
    AuditPerson,
    Base,
    GroupMember,
    MeetingAttendance,
    MeetingRsvp,
    OutboxMessage,
    OutboxPerson,
    Participant,
    ParticipantYear,
    PollVote,
    ProjectGroup,
    UTCDateTime,
)
from tests.report_facts import YearFacts, year_facts
from tests.storage.union_reference import union_figures

TABLES = {"bot_state", "cap_uses", "joined_rooms", "inbox", "outbox", "welcomes", "scheduled_messages",
          "project_groups", "group_members", "group_progress", "group_needs", "initiatives",
          "audit_log", "people", "meetings", "meeting_rsvps", "meeting_attendance", "polls",
          "poll_slots", "poll_votes", "agenda_suggestions", "agenda_supports", "agenda_items",
          "agenda_states", "remontees", "reminders", "participants", "participant_years",
          "outbox_people", "audit_people", "meeting_headcounts", "meeting_guests", "actions",
          "poll_comments", "remontee_supports", "charter_adoptions", "charter_posts",
          "group_funding", "charter_versions", "charter_proposals"}


# The inbox before 0015 (the model has a column more since).
OLD_INBOX = sa.table("inbox", sa.column("event_id", sa.String()), sa.column("room_id", sa.String()),
                     sa.column("sender", sa.String()), sa.column("body", sa.String()),
                     sa.column("sent_at", UTCDateTime()), sa.column("received_at", UTCDateTime()),
                     sa.column("handled_at", UTCDateTime()))


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "compare_server_default": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_empty_database_has_no_revision(empty_db: Database) -> None:
    assert await empty_db.current_revision() is None
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()


async def test_upgrade_to_head(empty_db: Database) -> None:
    await empty_db.upgrade()
    assert await empty_db.current_revision() == _head()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES | {"alembic_version"}


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await db.upgrade()
    assert await db.current_revision() == _head()


async def test_a_database_at_head_reads_the_migration_files_outside_the_loop(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are read in a worker thread; a database at head runs nothing in the loop."""
    in_loop_thread: list[bool] = []
    read = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[ScriptDirectory], config: Any) -> ScriptDirectory:
        in_loop_thread.append(threading.current_thread() is threading.main_thread())
        return read(cls, config)  # type: ignore[no-any-return]

    monkeypatch.setattr(ScriptDirectory, "from_config", classmethod(recorded))
    await db.upgrade()
    assert in_loop_thread == [False]
    assert await db.current_revision() == _head()


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_models_cover_every_table() -> None:
    assert set(Base.metadata.tables) == TABLES


async def test_downgrade_to_base_then_up_again(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_base)
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}
    assert await db.current_revision() is None
    await db.upgrade()
    assert await db.current_revision() == _head()


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _vote_indexes(connection: Connection) -> dict[str, list[str]]:
    return {index["name"]: list(index["column_names"])
            for index in inspect(connection).get_indexes("poll_votes")}


COVERING = {"ix_poll_votes_poll": ["poll_id", "slot_id", "answer"],
            "ix_poll_votes_voter": ["poll_id", "user_id", "answer"],
            "ix_poll_votes_slot": ["slot_id", "answer", "voted_at"],
            "ix_poll_votes_user": ["user_id", "voted_at"]}


async def test_a_database_past_0003_gets_the_poll_vote_indexes(empty_db: Database) -> None:
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0006")
        assert await connection.run_sync(_vote_indexes) == {"ix_poll_votes_poll": ["poll_id"]}
    await empty_db.upgrade()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_vote_indexes) == COVERING


async def test_a_database_that_ran_the_edited_0003_upgrades_too(empty_db: Database) -> None:
    """0003 once made the covering indexes itself (edited in place): 0007 must not fail on
    them."""
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0006")
        await connection.exec_driver_sql("DROP INDEX ix_poll_votes_poll")
        for name, columns in COVERING.items():
            await connection.exec_driver_sql(
                f"CREATE INDEX {name} ON poll_votes ({', '.join(columns)})")
    await empty_db.upgrade()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_vote_indexes) == COVERING


# --- 0008: the participation ledger -------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")
YEARS_0007 = sa.table("participant_years", sa.column("user_id"), sa.column("year"))
PARTICIPANTS_0007 = sa.table("participants", *(sa.column(name) for name in (
    "user_id", "territory", "category")), *(sa.column(name, UTCDateTime()) for name in (
        "first_seen", "last_seen")))
FIGURE_YEARS = range(2023, 2029)


def _moment(rng: random.Random) -> datetime:
    """A time from 2024 to 2027, one in four around a New Year's night (Paris is UTC+1)."""
    if rng.random() < 0.25:
        return datetime(rng.randint(2024, 2027), 12, 31, 21, tzinfo=UTC) + timedelta(
            minutes=rng.randint(0, 240))
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 4 * 525_600))


def _paris_year(moment: datetime) -> int:
    return moment.astimezone(PARIS).year


# The meetings' table as revisions 0003 to 0013 had it (the model has more columns since 0016).
_MEETINGS_0003 = sa.table(
    "meetings", sa.column("id", sa.Integer()), sa.column("starts_at", UTCDateTime()),
    sa.column("ends_at", UTCDateTime()), sa.column("place", sa.String()),
    sa.column("territory", sa.String()), sa.column("status", sa.String()),
    sa.column("sequence", sa.Integer()), sa.column("minutes", sa.String()),
    sa.column("cancel_reason", sa.String()), sa.column("rooms", sa.String()),
    sa.column("created_by", sa.String()), sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()))


# The polls' tables as revisions 0003 to 0018 had them (the models have more columns since 0020).
_POLLS_0003 = sa.table(
    "polls", sa.column("id", sa.Integer()), sa.column("question", sa.String()),
    sa.column("territory", sa.String()), sa.column("room_id", sa.String()),
    sa.column("status", sa.String()), sa.column("created_by", sa.String()),
    sa.column("created_at", UTCDateTime()), sa.column("results_version", sa.Integer()))
_POLL_SLOTS_0003 = sa.table(
    "poll_slots", sa.column("id", sa.Integer()), sa.column("poll_id", sa.Integer()),
    sa.column("position", sa.Integer()), sa.column("starts_at", UTCDateTime()),
    sa.column("ends_at", UTCDateTime()))
_POLL_VOTES_0003 = sa.table(
    "poll_votes", sa.column("slot_id", sa.Integer()), sa.column("user_id", sa.String()),
    sa.column("poll_id", sa.Integer()), sa.column("answer", sa.String()),
    sa.column("source", sa.String()), sa.column("voted_at", UTCDateTime()),
    sa.column("event_id", sa.String()))


async def _vote_0003(session: AsyncSession, **values: Any) -> None:
    await session.execute(_POLL_VOTES_0003.insert().values(**values))


async def _seed_0007(session: AsyncSession, rng: random.Random) -> None:
    """Every kind of activity as revision 0007 stored it: ``participant_years`` without times,
    written with each command (the year of the first use, and of any later use)."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    groups = [ProjectGroup(slug=f"g{n}", name=f"G{n}", name_key=f"g{n}", description="",
                           theme="energie", territory="sud", status="idee", funding="",
                           created_by="@x:x", created_at=t0, updated_at=t0) for n in range(3)]
    meetings = [SimpleNamespace(id=(await session.execute(
        _MEETINGS_0003.insert().values(
            starts_at=_moment(rng), ends_at=t0, place="", territory="commun", status="tenue",
            sequence=0, minutes="", cancel_reason="", rooms="[]", created_by="@x:x",
            created_at=t0, updated_at=t0).returning(_MEETINGS_0003.c.id))).scalar_one())
        for _ in range(8)]
    session.add_all(groups)
    poll = SimpleNamespace(id=(await session.execute(_POLLS_0003.insert().values(
        question="?", territory="tous", room_id="!r:x", status="open", created_by="@x:x",
        created_at=t0, results_version=0).returning(_POLLS_0003.c.id))).scalar_one())
    slots = [SimpleNamespace(id=(await session.execute(_POLL_SLOTS_0003.insert().values(
        poll_id=poll.id, position=n, starts_at=t0, ends_at=t0)
        .returning(_POLL_SLOTS_0003.c.id))).scalar_one()) for n in range(1, 5)]
    years: set[tuple[str, int]] = {("@placeholder:x", 2025), ("@placeholder:x", 2027)}
    people = [dict(user_id="@placeholder:x", first_seen=datetime(2025, 3, 1, tzinfo=UTC),
                   last_seen=datetime(2027, 5, 1, tzinfo=UTC), territory=None, category=None)]
    await _vote_0003(session, slot_id=slots[0].id, user_id="@newyear:x", poll_id=poll.id,
                     answer="yes", source="native",
                     voted_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC), event_id="$ny")
    for n in range(80):
        user = f"@p{n}:x"
        if rng.random() < 0.7:  # used the bot: the year of the first use, maybe later ones
            first = _moment(rng)
            people.append(dict(user_id=user, first_seen=first, last_seen=first,
                               territory=rng.choice([None, "nord", "sud"]),
                               category=rng.choice([None, "habitant", "elu"])))
            years |= {(user, year) for year in range(_paris_year(first), 2028)
                      if year == _paris_year(first) or rng.random() < 0.4}
        for group in rng.sample(groups, rng.randint(0, 2)):
            session.add(GroupMember(group_id=group.id, user_id=user, joined_at=_moment(rng)))
        for slot in rng.sample(slots, rng.randint(0, 3)):
            await _vote_0003(session, slot_id=slot.id, user_id=user, poll_id=poll.id,
                             answer=rng.choice(["yes", "maybe", "no", None]), source="text",
                             voted_at=_moment(rng), event_id=f"${n}-{slot.id}")
        for meeting in rng.sample(meetings, rng.randint(0, 2)):
            session.add(MeetingRsvp(meeting_id=meeting.id, user_id=user, answer="present",
                                    at=_moment(rng)))
        for meeting in rng.sample(meetings, rng.randint(0, 2)):
            session.add(MeetingAttendance(meeting_id=meeting.id, user_id=user,
                                          recorded_at=_moment(rng)))
    await session.flush()
    await session.execute(PARTICIPANTS_0007.insert(), people)
    await session.execute(YEARS_0007.insert(), [{"user_id": u, "year": y} for u, y in years])


async def _figures(db: Database, union: bool) -> dict[int, YearFacts]:
    async with db.transaction() as repos:
        count = union_figures if union else year_facts
        return {year: await count(repos, year, PARIS) for year in FIGURE_YEARS}


def _migrate(connection: Connection, revision: str, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def _migrate_to(db: Database, revision: str, down: bool = False) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_migrate, revision, down)


async def _down_and_up(db: Database, revision: str) -> None:
    """Down to ``revision``, then up to the head again."""
    await _migrate_to(db, revision, down=True)
    await db.upgrade()


async def test_0008_fills_the_ledger_so_that_the_figures_stay_the_same(empty_db: Database) -> None:
    await _migrate_to(empty_db, "0007")
    async with empty_db.transaction() as repos:
        await _seed_0007(repos.session, random.Random(8))
    before = await _figures(empty_db, union=True)
    assert [before[y].participants_year for y in FIGURE_YEARS] == [0, 49, 61, 63, 72, 10]

    await empty_db.upgrade()
    assert await _figures(empty_db, union=False) == before
    async with empty_db.transaction() as repos:
        rows = (await repos.session.execute(
            select(ParticipantYear.user_id, ParticipantYear.year, ParticipantYear.first_at)
            .where(ParticipantYear.user_id.in_(["@placeholder:x", "@newyear:x"]))
            .order_by(ParticipantYear.user_id, ParticipantYear.year))).all()
    assert [tuple(row) for row in rows] == [
        ("@newyear:x", 2027, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),  # 00:30 in Paris
        ("@placeholder:x", 2025, datetime(2025, 3, 1, tzinfo=UTC)),
        ("@placeholder:x", 2027, datetime(2027, 1, 1, tzinfo=PARIS))]  # no time was known

    await _migrate_to(empty_db, "0007", down=True)  # down to 0007: the same figures
    assert await _figures(empty_db, union=True) == before
    await empty_db.upgrade()
    assert await _figures(empty_db, union=False) == before


# --- 0010: each participant's span ------------------------------------------------------------

async def test_0010_gives_everyone_of_the_ledger_a_span_and_their_latest_activity(
        empty_db: Database) -> None:
    await _migrate_to(empty_db, "0007")
    async with empty_db.transaction() as repos:
        await _seed_0007(repos.session, random.Random(10))
    await _migrate_to(empty_db, "0009")
    before = await _figures(empty_db, union=True)
    async with empty_db.transaction() as repos:
        known = set((await repos.session.scalars(select(Participant.user_id))).all())
        latest_vote = dict((await repos.session.execute(
            select(PollVote.user_id, sa.func.max(PollVote.voted_at))
            .group_by(PollVote.user_id))).all())

    await empty_db.upgrade()
    assert await _figures(empty_db, union=False) == before
    ledger = ParticipantYear
    async with empty_db.transaction() as repos:
        spans = {row.user_id: row for row in (await repos.session.execute(
            select(ledger.user_id, sa.func.min(ledger.year).label("first_year"),
                   sa.func.max(ledger.year).label("last_year"),
                   sa.func.min(ledger.first_at).label("first_seen"),
                   sa.func.max(ledger.first_at).label("last_seen"))
            .group_by(ledger.user_id))).all()}
        people = {person.user_id: person for person in
                  (await repos.session.scalars(select(Participant))).all()}
    assert set(people) == set(spans) | known  # everyone of the ledger has a row now
    assert set(spans) - known  # some had none (native votes, lists of presences)
    moved = 0
    for user_id, span in spans.items():
        person = people[user_id]
        assert (person.first_year, person.last_year, person.first_seen) == (
            span.first_year, span.last_year, span.first_seen), user_id
        assert person.last_seen >= max(span.last_seen, latest_vote.get(user_id, span.last_seen))
        moved += person.last_seen > span.last_seen
    assert moved  # a later activity than the ledger's earliest of the last year was found
    assert (people["@newyear:x"].first_year, people["@newyear:x"].last_seen) == (
        2027, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))

    await _migrate_to(empty_db, "0009", down=True)  # down to 0009 and up: the same figures
    assert await _figures(empty_db, union=True) == before
    await empty_db.upgrade()
    assert await _figures(empty_db, union=False) == before


# --- 0011: exact keys of personal data --------------------------------------------------------

async def test_0011_links_messages_and_audit_entries_to_the_people_they_name(
        empty_db: Database) -> None:
    alice, bob, carol = "@alice:example.co", "@bob:example.org", "@carol:example.org"
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0010")

    def message(n: int, room: str, content: object, action: str = "send") -> dict[str, Any]:
        """A row as 0010 knows it (the model has columns later revisions add)."""
        text = content if isinstance(content, str) else json.dumps(content)
        return {"txn_id": f"t{n}", "room_id": room, "action": action, "content": text,
                "event_type": "m.room.message", "created_at": t0, "sent_at": t0,
                "event_id": f"$e{n}"}

    outbox_0010 = sa.table("outbox", *(sa.column(name) for name in (
        "txn_id", "room_id", "action", "content", "event_type", "created_at", "sent_at",
        "event_id")))

    pill = f'<a href="https://matrix.to/#/{carol}">Carol</a>'
    async with empty_db.transaction() as repos:
        await repos.session.execute(sa.insert(outbox_0010), [
            message(1, "!club:x", {"body": "ok", "formatted_body": pill,
                                   "m.mentions": {"user_ids": [bob]}}),
            message(2, "!club:x", {"user_id": alice}, "invite"),
            message(3, "!dm:x", {"body": "mes-donnees.json", "data": "e30="}, "upload"),
            message(4, "!club:x", '{"body": "anonyme-1abc: "'),  # not JSON any more
            message(5, "!club:x", {"body": f"{alice} en texte"}),
        ])
        repos.session.add_all([
            AuditEntry(at=t0, actor=bob, subject="group", subject_id=1, action="joined",
                       details="{}"),
            AuditEntry(at=t0, actor=bob, subject="group", subject_id=1,
                       action="referent_added", details=json.dumps({"user": alice})),
            AuditEntry(at=t0, actor=bob, subject="meeting", subject_id=1, action="attendance",
                       details=json.dumps({"count": 2, "people": [alice, carol]})),
            AuditEntry(at=t0, actor=bob, subject="group", subject_id=1, action="progress",
                       details="{broken"),
        ])
        await repos.session.execute(OLD_INBOX.insert(), [{  # as it was then (no thread_root)
            "event_id": "$c1", "room_id": "!club:x", "sender": alice, "body": "!mes-donnees",
            "sent_at": t0, "received_at": t0, "handled_at": t0}])
        await repos.participants.set_direct_room(alice, "!dm:x")

    await empty_db.upgrade()

    async with empty_db.transaction() as repos:
        messages = dict((await repos.session.execute(select(OutboxMessage.txn_id,
                                                            OutboxMessage.id))).all())
        outbox = {(txn, user) for txn, user in (await repos.session.execute(
            select(OutboxMessage.txn_id, OutboxPerson.user_id)
            .join(OutboxPerson, OutboxPerson.outbox_id == OutboxMessage.id))).all()}
        audit = set((await repos.session.execute(
            select(AuditPerson.audit_id, AuditPerson.user_id))).all())
    assert len(messages) == 5
    assert outbox == {("t1", bob), ("t1", carol), ("t2", alice), ("t3", alice)}
    assert audit == {(2, alice), (3, alice), (3, carol)}

    if empty_db.is_sqlite:  # the outbox's ids are never reused (AUTOINCREMENT)
        async with empty_db.transaction() as repos:
            assert "AUTOINCREMENT" in (await repos.session.execute(sa.text(
                "SELECT sql FROM sqlite_master WHERE name = 'outbox'"))).scalar_one()

    await _down_and_up(empty_db, "0010")


# --- 0013: grouped welcomes ---------------------------------------------------------------------

async def test_0013_keeps_those_already_welcomed_from_being_welcomed_again(
        empty_db: Database) -> None:
    """People welcomed one by one before 0013 are greeted already: nobody waits after it."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0011")
    welcomes = sa.table("welcomes", sa.column("user_id", sa.String()),
                        sa.column("room_id", sa.String()), sa.column("welcomed_at", UTCDateTime()))
    async with empty_db.transaction() as repos:
        await repos.session.execute(welcomes.insert(), [
            {"user_id": f"@p{n}:example.org", "room_id": "!club:x",
             "welcomed_at": t0 + timedelta(minutes=n)} for n in range(3)])
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert await repos.welcomes.waiting_rooms() == []
        assert not await repos.welcomes.first_time("@p1:example.org", "!club:x", t0)
        greeted = (await repos.session.execute(sa.text(
            "SELECT count(*) FROM welcomes WHERE greeted_at IS NOT NULL"))).scalar_one()
    assert greeted == 3
    await _down_and_up(empty_db, "0011")


# --- 0015: commands sent in a thread ------------------------------------------------------------

async def test_0015_commands_queued_before_it_are_answered_in_the_main_timeline(
        empty_db: Database) -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0013")
    async with empty_db.transaction() as repos:
        await repos.session.execute(OLD_INBOX.insert(), [{
            "event_id": "$old", "room_id": "!club:x", "sender": "@a:x", "body": "!ping",
            "sent_at": t0, "received_at": t0}])
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert [(row.event_id, row.thread_root) for row in await repos.inbox.pending()] == [
            ("$old", None)]
        assert await repos.inbox.add_if_new(event_id="$new", room_id="!club:x", sender="@a:x",
                                            body="!ping", sent_at=t0, received_at=t0,
                                            thread_root="$root")
        row = await repos.inbox.get("$new")
        assert row is not None and row.thread_root == "$root"
    await _down_and_up(empty_db, "0013")


# --- 0016: kinds of event -----------------------------------------------------------------------

_ATTENDANCE = sa.table("meeting_attendance", sa.column("meeting_id", sa.Integer()),
                       sa.column("user_id", sa.String()), sa.column("recorded_at", UTCDateTime()))


async def test_0016_makes_every_rencontre_a_rencontre_du_club_and_keeps_its_answers(
        empty_db: Database) -> None:
    """Existing rencontres become events of kind « rencontre », organised by whoever planned
    them; their answers and attendance stay (SQLite: no copy of the table that would cascade)."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0013")
    answers = sa.table("meeting_rsvps", sa.column("meeting_id", sa.Integer()),
                       sa.column("user_id", sa.String()), sa.column("answer", sa.String()),
                       sa.column("at", UTCDateTime()))
    async with empty_db.transaction() as repos:
        ids = [(await repos.session.execute(_MEETINGS_0003.insert().values(
            starts_at=t0 + timedelta(days=n), ends_at=t0 + timedelta(days=n, hours=2),
            place="Gap", territory=territory, status="tenue", sequence=n, minutes="",
            cancel_reason="", rooms="[]", created_by=f"@planner{n}:x", created_at=t0,
            updated_at=t0).returning(_MEETINGS_0003.c.id))).scalar_one()
            for n, territory in enumerate(("nord", "commun"))]
        await repos.session.execute(answers.insert(), [
            {"meeting_id": ids[0], "user_id": "@a:x", "answer": "present", "at": t0},
            {"meeting_id": ids[1], "user_id": "@b:x", "answer": "peutetre", "at": t0}])
        await repos.session.execute(_ATTENDANCE.insert(), [
            {"meeting_id": ids[0], "user_id": "@a:x", "recorded_at": t0}])
    await _migrate_to(empty_db, "0016")
    async with empty_db.transaction() as repos:
        rows = [await repos.meetings.get(number) for number in ids]
        assert [(m.kind, m.title, m.description, m.link, m.theme, m.group_id, m.capacity,  # type: ignore[union-attr]
                 m.organiser, m.territory, m.place) for m in rows] == [
            ("rencontre", "", "", "", None, None, None, "@planner0:x", "nord", "Gap"),
            ("rencontre", "", "", "", None, None, None, "@planner1:x", "commun", "Gap")]
        assert await repos.meetings.rsvp(ids[0], "@a:x") == "present"
        assert await repos.meetings.rsvp(ids[1], "@b:x") == "peutetre"
        assert [row.user_id for row in await repos.meetings.attendance(ids[0])] == ["@a:x"]
    await empty_db.upgrade()  # 0019: the north's rencontre is territorial, the joint one stays
    assert await _kinds(empty_db, ids) == ["territoriale", "rencontre"]
    await _down_and_up(empty_db, "0013")  # nothing lost
    async with empty_db.transaction() as repos:
        assert [row.user_id for row in await repos.meetings.attendance(ids[0])] == ["@a:x"]


# --- 0017: headcounts and guests ----------------------------------------------------------------

async def test_0017_keeps_the_named_attendance_and_adds_headcounts_and_guests(
        empty_db: Database) -> None:
    """An event held at 0016 keeps who came; the yearly turnout counts them, and headcounts
    and guests can be added; going down drops only the new tables."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0016")
    async with empty_db.transaction() as repos:
        meeting = await repos.meetings.create(starts_at=t0, ends_at=t0 + timedelta(hours=2),
                                              place="Gap", territory="nord", created_by="@c:x",
                                              at=t0, kind="webinaire")
        meeting.status = "tenue"
        await repos.session.flush()
        await repos.session.execute(_ATTENDANCE.insert(), [
            {"meeting_id": meeting.id, "user_id": user, "recorded_at": t0}
            for user in ("@a:x", "@b:x")])
    await empty_db.upgrade()
    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    async with empty_db.transaction() as repos:
        assert (await repos.attendance.turnout_between(*year)).ways == {"membres": 2}
        await repos.attendance.set_headcount(meeting.id, "nord", {"elu": 8}, t0)
        await repos.attendance.add_guests(meeting.id, [("Marie", "habitant", "sud")], t0)
    async with empty_db.transaction() as repos:
        assert (await repos.attendance.turnout(meeting.id)).total == 11
    async with empty_db.engine.begin() as connection:  # down: the new tables go, nothing else
        await connection.run_sync(_migrate, "0016", True)
        assert not {"meeting_headcounts", "meeting_guests"} & await connection.run_sync(_tables)
    async with empty_db.transaction() as repos:
        assert [row.user_id for row in await repos.meetings.attendance(meeting.id)] == [
            "@a:x", "@b:x"]
    await empty_db.upgrade()


# --- 0018: actions ------------------------------------------------------------------------------

# The reminders' table before 0018 (the model has ``action_id`` since).
_REMINDERS_0017 = sa.table(
    "reminders", sa.column("id", sa.Integer()), sa.column("kind", sa.String()),
    sa.column("room_id", sa.String()), sa.column("owner", sa.String()),
    sa.column("text", sa.String()), sa.column("rule", sa.String()),
    sa.column("due_at", UTCDateTime()), sa.column("send_at", UTCDateTime()),
    sa.column("occurrence", sa.Integer()), sa.column("meeting_id", sa.Integer()),
    sa.column("offset", sa.String()), sa.column("status", sa.String()),
    sa.column("created_at", UTCDateTime()))


async def test_0018_adds_the_actions_and_keeps_the_pending_reminders(empty_db: Database) -> None:
    """The reminders pending at 0017 stay (no copy of the table on SQLite), with no action; an
    action and its reminder can be recorded; down to 0017 and up again, the reminders stay."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0017")
    async with empty_db.transaction() as repos:
        await repos.session.execute(_REMINDERS_0017.insert().values(
            kind="personal", room_id="!r:x", owner="@a:x", text="appeler", rule=None, due_at=t0,
            send_at=t0, occurrence=0, meeting_id=None, offset="", status="pending",
            created_at=t0))
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        [kept] = await repos.reminders.pending_of("@a:x")
        assert (kept.text, kept.action_id) == ("appeler", None)
        meeting = await repos.meetings.create(
            starts_at=t0, ends_at=t0 + timedelta(hours=2), place="", territory="nord",
            created_by="@c:x", at=t0, poll_id=None, rooms="[]")
        action = await repos.actions.add(meeting_id=meeting.id, assignee="@b:x", group_id=None,
                                         text="Envoyer le devis", due_at=t0 + timedelta(days=9),
                                         created_by="@c:x", created_at=t0)
        await repos.reminders.add(kind="action", room_id="!r:x", owner="@cct-bot", text="",
                                  rule=None, due_at=t0, send_at=t0, meeting_id=meeting.id,
                                  action_id=action.id, offset="J-2", created_at=t0)
        assert [a.text for a in await repos.actions.open()] == ["Envoyer le devis"]
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_migrate, "0017", True)
        assert "actions" not in await connection.run_sync(_tables)
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert [r.text for r in await repos.reminders.pending_of("@a:x")] == ["appeler"]
        assert await repos.reminders.count_pending() == 2


# --- 0019: territorial rencontres ---------------------------------------------------------------

async def _kinds(db: Database, ids: list[int]) -> list[str]:
    async with db.transaction() as repos:
        return [(await repos.meetings.get(number)).kind for number in ids]  # type: ignore[union-attr]


async def test_0019_makes_the_rencontres_of_the_north_and_south_territorial(
        empty_db: Database) -> None:
    """The club's rencontres of one territory become « territoriale »; the joint ones, the
    group meetings and the events of another kind keep theirs; down, they are « rencontre »."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0018")
    events = [("nord", "rencontre", None), ("sud", "rencontre", None),
              ("commun", "rencontre", None), ("nord", "webinaire", None),
              ("sud", "rencontre", 4), ("sud", "groupe", 4)]
    async with empty_db.transaction() as repos:
        ids = [(await repos.meetings.create(
            starts_at=t0, ends_at=t0 + timedelta(hours=2), place="Gap", territory=territory,
            created_by="@c:x", at=t0, kind=kind, group_id=group)).id
            for territory, kind, group in events]
    await empty_db.upgrade()
    assert await _kinds(empty_db, ids) == ["territoriale", "territoriale", "rencontre",
                                           "webinaire", "rencontre", "groupe"]
    await _migrate_to(empty_db, "0018", down=True)
    assert await _kinds(empty_db, ids) == [kind for _territory, kind, _group in events]
    await empty_db.upgrade()


# --- 0020: proposals and polls on anything --------------------------------------------------------

async def test_0020_keeps_the_date_polls_and_their_votes(empty_db: Database) -> None:
    """A date poll voted at 0018 is a date poll after 0020 (no copy of the polls' tables on
    SQLite: its votes stay, with no reason); a proposal with a reasoned position can be
    recorded; down to 0018 and up again, the date poll and its votes stay."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_migrate, "0018")
    async with empty_db.transaction() as repos:
        poll_id = (await repos.session.execute(_POLLS_0003.insert().values(
            question="Quand ?", territory="tous", room_id="!r:x", status="open",
            created_by="@c:x", created_at=t0, results_version=0)
            .returning(_POLLS_0003.c.id))).scalar_one()
        slot_id = (await repos.session.execute(_POLL_SLOTS_0003.insert().values(
            poll_id=poll_id, position=1, starts_at=t0, ends_at=t0)
            .returning(_POLL_SLOTS_0003.c.id))).scalar_one()
        await _vote_0003(repos.session, slot_id=slot_id, user_id="@a:x", poll_id=poll_id,
                         answer="yes", source="text", voted_at=t0, event_id="$v")
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        poll = await repos.polls.get(poll_id)
        assert poll is not None and (poll.kind, poll.multiple, poll.anonymous,
                                     poll.allow_other, poll.outcome) == (
            "dates", False, False, False, None)
        [slot] = await repos.polls.slots(poll_id)
        assert (slot.label, slot.other) == (None, False)
        [vote] = await repos.polls.votes(poll_id)
        assert (vote.user_id, vote.answer, vote.reason) == ("@a:x", "yes", None)
        proposal = await repos.polls.create(question="Adopter le cadre", territory="tout",
                                            room_id="!r:x", closes_at=t0, created_by="@b:x",
                                            at=t0, kind="proposal", anonymous=True)
        option = await repos.polls.add_slot(proposal.id, 1, t0, t0)
        await repos.polls.cast(poll_id=proposal.id, user_id="@a:x",
                               answers=[(option.id, "disagree")], source="text", at=t0,
                               event_id="$p", tz=PARIS, reasons={option.id: "trop long"})
        await repos.polls.set_outcome(proposal, "Adopté", "@b:x", t0)
        assert [(v.answer, v.reason) for v in await repos.polls.votes(proposal.id)] == [
            ("disagree", "trop long")]
        assert [p.id for p in await repos.polls.decisions()] == [proposal.id]
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_migrate, "0018", True)
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert [v.answer for v in await repos.polls.votes(poll_id)] == ["yes"]


# --- 0021: comments, supports of remontées, adoption of the charter -----------------------------

# The remontées' table before 0021 (the model has ``confirmation_txn`` since).
_REMONTEES_0018 = sa.table(
    "remontees", sa.column("id", sa.Integer()), sa.column("author", sa.String()),
    sa.column("room_id", sa.String()), sa.column("text", sa.String()),
    sa.column("status", sa.String()), sa.column("created_at", UTCDateTime()),
    sa.column("answer", sa.String()))
_0021_TABLES = {"poll_comments", "remontee_supports", "charter_adoptions", "charter_posts"}


async def test_0021_keeps_the_remontees_and_adds_comments_supports_and_adoptions(
        empty_db: Database) -> None:
    """A remontée raised at 0018 stays (no copy of the table on SQLite), without a confirmation
    (supported by command only); supports, comments and adoptions can be recorded; down to 0018
    and up again, the remontée stays and the new tables are empty."""
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_migrate, "0018")
        assert not _0021_TABLES & await connection.run_sync(_tables)
    async with empty_db.transaction() as repos:
        await repos.session.execute(_REMONTEES_0018.insert().values(
            author="@a:x", room_id="!r:x", text="Un abri vélo", status="nouvelle",
            created_at=t0, answer=""))
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        kept = await repos.remontees.get(1)
        assert kept is not None and (kept.text, kept.confirmation_txn) == ("Un abri vélo", None)
        assert await repos.remontees.confirmations(("nouvelle",)) == []
        assert await repos.remontees.add_support(1, "@b:x", t0, "$r1")
        poll = await repos.polls.create(question="Quand ?", territory="tout", room_id="!r:x",
                                        closes_at=None, created_by="@c:x", at=t0)
        await repos.comments.add(poll_id=poll.id, author="@b:x", text="Mardi", at=t0)
        assert await repos.charter.adopt("@b:x", "1", t0, "$a1")
        await repos.charter.posted("txn-1", "1", "!r:x", t0)
    async with empty_db.transaction() as repos:
        assert await repos.remontees.support_counts() == {1: 1}
        assert [c.text for c in await repos.comments.latest(1, 5)] == ["Mardi"]
        assert await repos.charter.posts_of("1") == ["txn-1"]
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_migrate, "0018", True)
        assert not _0021_TABLES & await connection.run_sync(_tables)
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        kept = await repos.remontees.get(1)
        assert kept is not None and kept.text == "Un abri vélo"
        assert await repos.remontees.support_counts() == {}
        assert await repos.charter.adoptions() == []


# --- 0023: the people a headcount holds from forgotten guests ------------------------------------

async def test_0023_keeps_the_headcounts_and_counts_none_of_them_from_guests(
        empty_db: Database) -> None:
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    await _migrate_to(empty_db, "0019")
    async with empty_db.transaction() as repos:
        meeting = await repos.meetings.create(
            starts_at=t0, ends_at=t0 + timedelta(hours=2), place="Gap", territory="sud",
            created_by="@c:x", at=t0)
        number = meeting.id
    async with empty_db.engine.begin() as connection:
        await connection.execute(sa.text(
            "INSERT INTO meeting_headcounts (meeting_id, territory, category, count, recorded_at)"
            " VALUES (:m, 'sud', 'elu', 3, :at)"), {"m": number, "at": t0})
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert await repos.attendance.headcounts(number) == {("sud", "elu"): 3}
        await repos.attendance.set_headcount(number, "sud", {"elu": 2}, t0)  # none kept
        assert await repos.attendance.headcounts(number) == {("sud", "elu"): 2}
    await _migrate_to(empty_db, "0019", down=True)
    async with empty_db.engine.begin() as connection:
        assert (await connection.execute(sa.text(
            "SELECT count FROM meeting_headcounts"))).scalar_one() == 2
    await empty_db.upgrade()
