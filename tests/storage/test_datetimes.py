"""UTCDateTime: naive datetimes refused; aware ones stored as the same instant, read back in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from storage.db import Database
from storage.models import InboxEvent, ScheduledMessage
from storage.models.base import aware

PARIS = ZoneInfo("Europe/Paris")


async def test_naive_datetime_refused(db: Database) -> None:
    with pytest.raises(StatementError) as info:
        async with db.transaction() as repos:
            await repos.rooms.mark_joined("!r:example.org", datetime(2026, 1, 1, 12, 0))
            await repos.session.flush()
    assert isinstance(info.value.orig, ValueError)
    assert "naive" in str(info.value.orig)
    async with db.transaction() as repos:
        assert await repos.rooms.all() == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 7, 14, 22, 30, tzinfo=PARIS),  # summer time, UTC+2
        datetime(2026, 1, 15, 8, 5, 7, 123456, tzinfo=PARIS),  # winter time, UTC+1
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS),  # the repeated hour, second pass
        datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
    ],
)
async def test_aware_datetime_round_trip(db: Database, moment: datetime) -> None:
    async with db.transaction() as repos:
        row = await repos.scheduled.add(room_id="!r:example.org", markdown="x", due_at=moment,
                                        created_at=moment)
        row_id = row.id
    # A new engine connection and session: the value really comes from the database.
    async with db.transaction() as repos:
        repos.session.expunge_all()
        stored = await repos.session.scalar(select(ScheduledMessage).where(ScheduledMessage.id == row_id))
        assert stored is not None
        # The same instant (timestamps: an ambiguous fold=1 time never compares equal across zones).
        assert stored.due_at.timestamp() == moment.timestamp()
        assert stored.due_at.utcoffset() == timedelta(0)
        assert stored.due_at.tzinfo is UTC
        assert stored.due_at.replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)


async def test_ordering_uses_instants_not_wall_clock(db: Database) -> None:
    # 10:00 in Paris (09:00 UTC) is before 09:30 UTC although its wall-clock reads later.
    paris_ten = datetime(2026, 1, 15, 10, 0, tzinfo=PARIS)
    utc_half_past_nine = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    async with db.transaction() as repos:
        for event_id, moment in (("$utc", utc_half_past_nine), ("$paris", paris_ten)):
            await repos.inbox.add_if_new(event_id=event_id, room_id="!r:x", sender="@u:x", body="b",
                                         sent_at=moment, received_at=moment)
    async with db.transaction() as repos:
        assert [r.event_id for r in await repos.inbox.pending()] == ["$paris", "$utc"]
        query = select(InboxEvent.event_id).where(
            InboxEvent.received_at < datetime(2026, 1, 15, 10, 15, tzinfo=PARIS))
        assert list(await repos.session.scalars(query)) == ["$paris"]


async def test_null_stays_null(db: Database) -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.transaction() as repos:
        await repos.inbox.add_if_new(event_id="$n", room_id="!r:x", sender="@u:x", body="b",
                                     sent_at=moment, received_at=moment)
    async with db.transaction() as repos:
        row = await repos.inbox.get("$n")
        assert row is not None and row.handled_at is None


async def test_stored_as_utc_in_the_database(db: Database) -> None:
    moment = datetime(2026, 7, 14, 22, 30, tzinfo=PARIS)
    async with db.transaction() as repos:
        await repos.rooms.mark_joined("!r:example.org", moment)
    async with db.engine.connect() as connection:
        if db.is_sqlite:
            raw = await connection.scalar(text("SELECT joined_at FROM joined_rooms"))
            assert str(raw).startswith("2026-07-14 20:30:00")
        else:
            await connection.execute(text("SET TIME ZONE 'UTC'"))
            raw = await connection.scalar(text("SELECT joined_at::text FROM joined_rooms"))
            assert raw == "2026-07-14 20:30:00+00"


@pytest.mark.parametrize("stored", [
    "2026-07-14 20:30:00",  # SQLite's text of an aggregate (max): naive UTC
    datetime(2026, 7, 14, 20, 30),
    datetime(2026, 7, 14, 22, 30, tzinfo=PARIS),  # PostgreSQL: aware, in its session's zone
])
def test_aware_reads_every_stored_form_as_the_same_utc_instant(stored: datetime | str) -> None:
    moment = aware(stored)
    assert moment == datetime(2026, 7, 14, 20, 30, tzinfo=UTC) and moment.tzinfo is UTC
    assert aware(None) is None
