"""Events of the programme and their places, on SQLite and PostgreSQL: the details stored, the
programme's filters, the places and the waiting list in order, and the event's row lock that
keeps two people from taking the same last place."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database

T0 = datetime(2027, 1, 5, 9, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


async def event(db: Database, days: int, **details: object) -> int:
    async with db.transaction() as repos:
        meeting = await repos.meetings.create(
            starts_at=T0 + timedelta(days=days), ends_at=T0 + timedelta(days=days, hours=2),
            place="", territory=str(details.pop("territory", "commun")), created_by="@c:x",
            at=T0, **details)
        return meeting.id


async def test_details_are_stored_and_the_organiser_defaults_to_the_planner(db: Database) -> None:
    first = await event(db, 3)
    second = await event(db, 4, kind="webinaire", title="Rénover", theme="energie",
                         link="https://v.example.org/x", capacity=20, organiser="@o:x",
                         description="Les aides")
    async with db.transaction() as repos:
        plain, webinaire = await repos.meetings.get(first), await repos.meetings.get(second)
    assert plain is not None and webinaire is not None
    assert (plain.kind, plain.title, plain.capacity, plain.organiser) == (
        "rencontre", "", None, "@c:x")
    assert (webinaire.kind, webinaire.title, webinaire.theme, webinaire.link, webinaire.capacity,
            webinaire.organiser, webinaire.description) == (
        "webinaire", "Rénover", "energie", "https://v.example.org/x", 20, "@o:x", "Les aides")


async def test_the_programme_filters(db: Database) -> None:
    ids = [await event(db, 1, kind="webinaire"), await event(db, 2, territory="nord"),
           await event(db, 3, group_id=7, territory="sud", theme="mobilite"),
           await event(db, -1)]  # past
    cancelled = await event(db, 5)
    async with db.transaction() as repos:
        row = await repos.meetings.get(cancelled)
        assert row is not None
        row.status = "annulee"

    async def shown(**filters: object) -> list[int]:
        async with db.transaction() as repos:
            return [s.meeting.id for s in await repos.meetings.programme(T0, **filters)]

    assert await shown() == ids[:3]
    assert await shown(kind="webinaire") == [ids[0]]
    assert await shown(territories=("nord", "commun")) == ids[:2]
    assert await shown(group_id=7) == [ids[2]]
    assert await shown(theme="mobilite") == [ids[2]]
    assert await shown(kind="formation") == []


async def test_places_and_the_waiting_list_in_the_order_given(db: Database) -> None:
    number = await event(db, 3, capacity=2)
    async with db.transaction() as repos:
        for minute, (user, answer) in enumerate([("@b:x", "attente"), ("@a:x", "present"),
                                                 ("@c:x", "attente"), ("@d:x", "absent")]):
            await repos.meetings.set_rsvp(number, user, answer, T0 + timedelta(minutes=minute),
                                          tz=PARIS)
    async with db.transaction() as repos:
        assert await repos.meetings.answered(number, "present") == ["@a:x"]
        assert await repos.meetings.answered(number, "attente") == ["@b:x", "@c:x"]
        summary = (await repos.meetings.programme(T0))[0]
    assert summary.answers == {"present": 1, "attente": 2, "absent": 1}


async def test_the_row_lock_makes_the_second_wait_for_the_first(db: Database) -> None:
    """Two transactions count the places of an event with one place left: the second counts
    after the first has taken it (PostgreSQL: ``FOR UPDATE``; SQLite: one writer at a time)."""
    number = await event(db, 3, capacity=1)
    seen: list[int] = []
    both_started = asyncio.Barrier(2) if not db.is_sqlite else None

    async def take(user: str) -> None:
        async with db.transaction() as repos:
            if both_started is not None:  # both transactions are open before either counts
                await repos.meetings.get(number)
                await both_started.wait()
            await repos.meetings.locked(number)
            taken = len(await repos.meetings.answered(number, "present"))
            seen.append(taken)
            await asyncio.sleep(0.05)  # the other one tries meanwhile
            await repos.meetings.set_rsvp(number, user, "present" if taken < 1 else "attente",
                                          T0, tz=PARIS)

    await asyncio.gather(take("@a:x"), take("@b:x"))
    assert sorted(seen) == [0, 1]
    async with db.transaction() as repos:
        assert len(await repos.meetings.answered(number, "present")) == 1
        assert len(await repos.meetings.answered(number, "attente")) == 1


@pytest.mark.parametrize("capacity", [None, 3])
async def test_an_event_without_or_with_places(db: Database, capacity: int | None) -> None:
    number = await event(db, 3, capacity=capacity)
    async with db.transaction() as repos:
        assert (await repos.meetings.locked(number)).capacity == capacity  # type: ignore[union-attr]
        assert await repos.meetings.locked(number + 100) is None
