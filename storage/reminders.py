"""The reminders' repository: every scheduled message of the club, in one table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import statements
from storage.models import Reminder

PENDING = "pending"
SET_WITH_RAPPEL = ("personal", "room", "group_room")  # kinds: for oneself, a room, a group's
ROOM_KINDS = ("room", "group_room")  # for a whole room (by a coordinator; by a group's member)


def _set_by_people(owner: str | ColumnElement[str], room_id: str | None = None) -> ColumnElement[bool]:
    """Pending reminders set with ``!rappel`` (personal or for a room) by ``owner`` (and, with
    ``room_id``, that room's ones too)."""
    condition = Reminder.owner == owner
    if room_id is not None:
        condition = condition | ((Reminder.room_id == room_id) & Reminder.kind.in_(ROOM_KINDS))
    return and_(Reminder.status == PENDING, condition, Reminder.kind.in_(SET_WITH_RAPPEL))


class ReminderRepository:
    """Pending reminders are read by their send time; each change is a plain update."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> int:
        """A pending reminder (values: the table's columns but status, occurrence and id);
        returns its id. One statement, no object of the session."""
        return int((await self.session.execute(
            statements.reminder_insert(), {"status": PENDING, "occurrence": 0, **values}
        )).scalar_one())

    async def get(self, reminder_id: int) -> Reminder | None:
        return await self.session.get(Reminder, reminder_id)

    async def next_send_at(self) -> datetime | None:
        """When the earliest pending reminder is to be sent."""
        return await self.session.scalar(
            select(func.min(Reminder.send_at)).where(Reminder.status == PENDING))

    async def due(self, now: datetime, limit: int = 100) -> Sequence[Reminder]:
        """Pending reminders whose send time has come, oldest first."""
        query = (select(Reminder).where(Reminder.status == PENDING, Reminder.send_at <= now)
                 .order_by(Reminder.send_at, Reminder.id).limit(limit))
        return (await self.session.scalars(query)).all()

    async def upcoming(self, limit: int) -> list[tuple[int, datetime]]:
        """The first pending reminders by send time (due or not), with it."""
        query = (select(Reminder.id, Reminder.send_at).where(Reminder.status == PENDING)
                 .order_by(Reminder.send_at, Reminder.id).limit(limit))
        return [(row.id, row.send_at) for row in await self.session.execute(query)]

    async def due_ids(self, now: datetime, limit: int = 1000) -> list[int]:
        query = (select(Reminder.id).where(Reminder.status == PENDING, Reminder.send_at <= now)
                 .order_by(Reminder.send_at, Reminder.id).limit(limit))
        return list((await self.session.scalars(query)).all())

    async def pending_of(self, owner: str, room_id: str | None = None) -> Sequence[Reminder]:
        """A person's pending reminders (and, with ``room_id``, that room's ones too)."""
        query = select(Reminder).where(_set_by_people(owner, room_id)).order_by(Reminder.due_at)
        return (await self.session.scalars(query)).all()

    async def count_pending_of(self, owner: str) -> int:
        """How many of the reminders ``owner`` set (personal or for a room) are still to come."""
        return int(await self.session.scalar(_count_set_by(), {"b_owner": owner}) or 0)

    async def of_meeting(self, meeting_id: int, kinds: Sequence[str]) -> Sequence[Reminder]:
        query = select(Reminder).where(Reminder.meeting_id == meeting_id,
                                       Reminder.kind.in_(list(kinds)),
                                       Reminder.status == PENDING).order_by(Reminder.due_at)
        return (await self.session.scalars(query)).all()

    async def cancel_of_meeting(self, meeting_id: int, kinds: Sequence[str]) -> None:
        await self.session.execute(
            update(Reminder).where(Reminder.meeting_id == meeting_id,
                                   Reminder.kind.in_(list(kinds)), Reminder.status == PENDING)
            .values(status="cancelled"))

    async def cancel_set_in(self, owner: str, room_id: str, kinds: Sequence[str]) -> int:
        """Cancels the pending reminders of ``kinds`` ``owner`` set in the room ``room_id``;
        how many."""
        result = await self.session.execute(
            update(Reminder).where(_set_by_people(owner), Reminder.room_id == room_id,
                                   Reminder.kind.in_(list(kinds)))
            .values(status="cancelled"))
        return int(getattr(result, "rowcount", 0) or 0)

    async def count_pending(self) -> int:
        query = select(func.count()).where(Reminder.status == PENDING)
        return int(await self.session.scalar(query) or 0)


@cache
def _count_set_by() -> Any:
    """How many reminders ``b_owner`` set are pending; built once (``!rappel`` counts them
    at each new one)."""
    owner = bindparam("b_owner", type_=Reminder.owner.type)
    return select(func.count()).select_from(Reminder).where(_set_by_people(owner))
