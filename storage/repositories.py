"""One repository per aggregate, all sharing the session of one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import statements
from storage.actions import ActionRepository
from storage.agenda import AgendaRepository, RemonteeRepository
from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.decisions import CharterRepository, CommentRepository
from storage.faults import storage_faults
from storage.meetings import MeetingRepository
from storage.models import (
    BotState,
    InboxEvent,
    JoinedRoom,
    ScheduledMessage,
    Welcome,
)
from storage.models.base import aware
from storage.outbox import ID_BATCH, OutboxRepository
from storage.participants import ParticipantRepository
from storage.personal_data import PersonalDataRepository
from storage.polls import PeopleRepository, PollRepository
from storage.projects import GroupRepository, InitiativeRepository
from storage.published import PublishedRepository
from storage.reminders import ReminderRepository
from storage.report import ReportRepository
from storage.statements import dialect_of


class StateRepository:
    """Key/value runtime facts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> str | None:
        row = await self.session.get(BotState, key)
        return row.value if row else None

    async def set(self, key: str, value: str) -> None:
        """Creates or replaces the value, in one statement."""
        await self.session.execute(statements.state_upsert(dialect_of(self.session)),
                                   {"key": key, "value": value})

    async def delete(self, key: str) -> None:
        await self.session.execute(delete(BotState).where(BotState.key == key))


class RoomRepository:
    """The rooms the bot is in, each with the time of its latest join."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, room_id: str) -> JoinedRoom | None:
        return await self.session.get(JoinedRoom, room_id)

    async def all(self) -> Sequence[JoinedRoom]:
        return (await self.session.scalars(select(JoinedRoom))).all()

    async def mark_joined(self, room_id: str, joined_at: datetime) -> JoinedRoom:
        """Records that the bot joined the room at ``joined_at``; a rejoin moves the time
        (what was said while the bot was out is history)."""
        row = await self.get(room_id)
        if row is None:
            row = JoinedRoom(room_id=room_id, joined_at=joined_at)
            self.session.add(row)
        else:
            row.joined_at = joined_at
        return row

    async def mark_all_joined(self, room_ids: Sequence[str], joined_at: datetime,
                              batch: int = ID_BATCH) -> None:
        """``mark_joined`` for many rooms (the bot's first start: every room it is in), a
        bounded number per statement: a few statements, not two per room."""
        for start in range(0, len(room_ids), batch):
            rooms = list(room_ids[start:start + batch])
            known = set((await self.session.scalars(
                select(JoinedRoom.room_id).where(JoinedRoom.room_id.in_(rooms)))).all())
            if known:
                await self.session.execute(update(JoinedRoom).where(
                    JoinedRoom.room_id.in_(known)).values(joined_at=joined_at))
            self.session.add_all(JoinedRoom(room_id=room_id, joined_at=joined_at)
                                 for room_id in rooms if room_id not in known)
        await self.session.flush()

    async def forget(self, room_id: str) -> None:
        """The bot is no longer in the room (it left, or was kicked or banned)."""
        row = await self.get(room_id)
        if row is not None:
            await self.session.delete(row)

    async def set_last_event(self, room_id: str, event_id: str) -> None:
        await self.set_last_events({room_id: event_id})

    async def set_last_events(self, last_events: Mapping[str, str]) -> None:
        """The last event seen of each room (room id -> event id): one statement run for all;
        a room the bot is not in is left alone."""
        if last_events:
            await self.session.execute(statements.last_event_update(), [
                {"b_room_id": room_id, "b_last_event_id": event_id}
                for room_id, event_id in last_events.items()])


INBOX_CHUNK = 250  # commands in one insert: a few milliseconds of SQLite in the loop's thread


class NewCommand(TypedDict):
    """A command received, as the inbox records it (``handled_at``: run in this transaction)."""

    event_id: str
    room_id: str
    sender: str
    body: str
    sent_at: datetime
    received_at: datetime
    handled_at: datetime | None
    thread_root: str | None


class InboxRepository:
    """Commands received and not yet handled."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, *, event_id: str, room_id: str, sender: str, body: str,
                         sent_at: datetime, received_at: datetime,
                         handled_at: datetime | None = None,
                         thread_root: str | None = None) -> bool:
        """Queues a command (or records it as handled, when it is run in this transaction);
        ``False`` when this event was already received (one statement)."""
        return bool(await self.add_new([NewCommand(
            event_id=event_id, room_id=room_id, sender=sender, body=body, sent_at=sent_at,
            received_at=received_at, handled_at=handled_at, thread_root=thread_root)]))

    async def add_new(self, commands: Sequence[NewCommand]) -> set[str]:
        """Queues commands (or records as handled those run in this transaction); returns
        the event ids not received before. One multi-row insert per ``INBOX_CHUNK`` commands,
        the event loop let go between two (a catch-up brings a thousand at once; SQLite runs
        in the loop's thread)."""
        received: set[str] = set()
        statement = statements.inbox_insert(dialect_of(self.session))
        for start in range(0, len(commands), INBOX_CHUNK):
            if start:
                await asyncio.sleep(0)
            result = await self.session.execute(
                statement, [dict(command) for command in commands[start:start + INBOX_CHUNK]])
            received.update(result.scalars().all())
        return received

    async def get(self, event_id: str) -> InboxEvent | None:
        return await self.session.get(InboxEvent, event_id)

    async def pending(self, limit: int = 1000) -> Sequence[InboxEvent]:
        query = (select(InboxEvent).where(InboxEvent.handled_at.is_(None))
                 .order_by(InboxEvent.received_at, InboxEvent.sent_at).limit(limit))
        return (await self.session.scalars(query)).all()

    async def mark_handled(self, event_id: str, at: datetime) -> None:
        await self.session.execute(statements.inbox_handled(),
                                   {"b_event_id": event_id, "b_handled_at": at})

    async def withdraw(self, event_id: str, room_id: str, sender: str | None,
                       at: datetime) -> bool:
        """A command taken back (redacted): its text is emptied and, if it was still queued,
        it is marked handled at ``at`` without being run. Only the command of ``room_id`` sent
        by ``sender`` (by anyone, when ``sender`` is ``None``); ``False`` if there is none.
        One statement."""
        values = {"b_event_id": event_id, "b_room_id": room_id, "b_handled_at": at}
        if sender is not None:
            values["b_sender"] = sender
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            statements.inbox_withdraw(by_author=sender is not None), values)
        return result.rowcount == 1

    async def count_handled(self) -> int:
        query = select(func.count()).where(InboxEvent.handled_at.is_not(None))
        return int(await self.session.scalar(query) or 0)


class WelcomeRepository:
    """Who is welcomed: recorded at their first arrival, greeted later with the others who
    arrived in the same room meanwhile."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, user_id: str, room_id: str, at: datetime) -> bool:
        """Records the arrival, to be greeted; ``False`` when this person arrived before."""
        if await self.session.get(Welcome, user_id) is not None:
            return False
        self.session.add(Welcome(user_id=user_id, room_id=room_id, welcomed_at=at))
        return True

    async def waiting_rooms(self) -> list[tuple[str, datetime, datetime | None]]:
        """Each room where people wait to be greeted: the first of them's arrival, and the
        room's latest welcome (``None``: none yet)."""
        waiting = (select(Welcome.room_id, func.min(Welcome.welcomed_at).label("first"))
                   .where(Welcome.greeted_at.is_(None)).group_by(Welcome.room_id).subquery())
        latest = (select(Welcome.room_id, func.max(Welcome.greeted_at).label("latest"))
                  .where(Welcome.greeted_at.is_not(None)).group_by(Welcome.room_id).subquery())
        query = (select(waiting.c.room_id, waiting.c.first, latest.c.latest)
                 .outerjoin(latest, latest.c.room_id == waiting.c.room_id))
        rooms = []
        for room_id, first, last in (await self.session.execute(query)).all():
            first_at = aware(first)
            if first_at is not None:
                rooms.append((room_id, first_at, aware(last)))
        return rooms

    async def waiting_in(self, room_id: str) -> list[str]:
        """The people waiting to be greeted in ``room_id``, in the order they arrived."""
        query = (select(Welcome.user_id)
                 .where(Welcome.greeted_at.is_(None), Welcome.room_id == room_id)
                 .order_by(Welcome.welcomed_at, Welcome.user_id))
        return list((await self.session.scalars(query)).all())

    async def greeted(self, user_ids: Sequence[str], at: datetime) -> None:
        """Marks these people greeted (their welcome is queued in the same transaction)."""
        await self.session.execute(update(Welcome).where(Welcome.user_id.in_(user_ids))
                                   .values(greeted_at=at))


class ScheduledMessageRepository:
    """Messages due in a room at a given time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, room_id: str, markdown: str, due_at: datetime,
                  created_at: datetime) -> ScheduledMessage:
        row = ScheduledMessage(room_id=room_id, markdown=markdown, due_at=due_at,
                               created_at=created_at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, message_id: int) -> ScheduledMessage | None:
        return await self.session.get(ScheduledMessage, message_id)

    async def pending(self) -> Sequence[ScheduledMessage]:
        query = (select(ScheduledMessage)
                 .where(ScheduledMessage.sent_at.is_(None), ScheduledMessage.cancelled_at.is_(None))
                 .order_by(ScheduledMessage.due_at))
        return (await self.session.scalars(query)).all()


class Repositories:
    """The repositories of one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.state = StateRepository(session)
        self.rooms = RoomRepository(session)
        self.inbox = InboxRepository(session)
        self.outbox = OutboxRepository(session)
        self.welcomes = WelcomeRepository(session)
        self.scheduled = ScheduledMessageRepository(session)
        self.groups = GroupRepository(session)
        self.initiatives = InitiativeRepository(session)
        self.audit = AuditRepository(session)
        self.polls = PollRepository(session)
        self.people = PeopleRepository(session)
        self.meetings = MeetingRepository(session)
        self.attendance = AttendanceRepository(session)
        self.reminders = ReminderRepository(session)
        self.agenda, self.remontees = AgendaRepository(session), RemonteeRepository(session)
        self.participants = ParticipantRepository(session)
        self.personal = PersonalDataRepository(session)
        self.actions = ActionRepository(session)
        self.published = PublishedRepository(session)
        self.comments, self.charter = CommentRepository(session), CharterRepository(session)
        self.report = ReportRepository(session)

    async def flush(self) -> None:
        """Writes what is pending in the session now (its errors raise here, not at the
        commit); nothing to do, no call into the session's thread (most commands)."""
        if self.session.new or self.session.dirty or self.session.deleted:
            await self.session.flush()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: what the block wrote is undone if it raises, the rest of the
        transaction stays. The storage failing raises ``StorageUnavailable``."""
        async with storage_faults(), self.session.begin_nested():
            yield
