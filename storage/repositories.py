"""One repository per aggregate, all sharing the session of one transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

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
    OutboxMessage,
    ScheduledMessage,
    Welcome,
)
from storage.models.base import aware
from storage.participants import ParticipantRepository
from storage.personal import people_in
from storage.personal_data import PersonalDataRepository
from storage.polls import PeopleRepository, PollRepository
from storage.projects import GroupRepository, InitiativeRepository
from storage.published import PublishedRepository
from storage.reminders import ReminderRepository
from storage.report import ReportRepository
from storage.statements import dialect_of

ID_BATCH = 500  # values in one IN (…) list: SQLite allows 32,766 parameters, a statement stays small


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
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            statements.inbox_insert(dialect_of(self.session)),
            {"event_id": event_id, "room_id": room_id, "sender": sender, "body": body,
             "sent_at": sent_at, "received_at": received_at, "handled_at": handled_at,
             "thread_root": thread_root})
        return result.rowcount == 1

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


class OutboxRepository:
    """Messages to send, each with a stable transaction id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, txn_id: str, room_id: str, content: dict[str, Any], created_at: datetime,
                  event_type: str = "m.room.message", action: str = "send",
                  state_key: str | None = None, about: Iterable[str] = ()) -> OutboxMessage | None:
        """Queues a message (or an invite, a state event); ``None`` if one with this transaction
        id was queued already. One statement, and one more (a single executemany) recording
        the people it concerns: those its content names (``people_in``) and ``about``. The row
        returned is not tracked by the session."""
        values = {"txn_id": txn_id, "room_id": room_id, "event_type": event_type,
                  "action": action, "state_key": state_key,
                  "content": json.dumps(content, ensure_ascii=False), "created_at": created_at}
        new_id = (await self.session.execute(
            statements.outbox_insert(dialect_of(self.session)), values)).scalar()
        if new_id is None:
            return None
        people = people_in(content).union(about)
        if people:
            await self.session.execute(statements.outbox_people_insert(), [
                {"outbox_id": new_id, "user_id": user} for user in sorted(people)])
        return OutboxMessage(id=new_id, **values)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def txn_of(self, event_id: str) -> str | None:
        """The transaction id of the queued message that became ``event_id``."""
        return await self.session.scalar(
            select(OutboxMessage.txn_id).where(OutboxMessage.event_id == event_id))

    async def has(self, txn_id: str) -> bool:
        """Whether a message with this transaction id was ever queued."""
        found = await self.session.scalar(
            select(statements.table(OutboxMessage).c.id).where(OutboxMessage.txn_id == txn_id))
        return found is not None

    async def event_id_of(self, txn_id: str) -> str | None:
        """The event id a queued message got when sent (``None`` while unsent or unknown)."""
        return await self.session.scalar(
            select(OutboxMessage.event_id).where(OutboxMessage.txn_id == txn_id))

    async def event_ids_of(self, txn_ids: Sequence[str],
                           batch: int = ID_BATCH) -> dict[str, str]:
        """The event ids the queued messages of ``txn_ids`` got when sent (those sent only),
        read ``batch`` transaction ids per statement."""
        found: dict[str, str] = {}
        for start in range(0, len(txn_ids), batch):
            query = (select(OutboxMessage.txn_id, OutboxMessage.event_id)
                     .where(OutboxMessage.txn_id.in_(txn_ids[start:start + batch]),
                            OutboxMessage.event_id.is_not(None)))
            found.update({txn: str(event) for txn, event in await self.session.execute(query)})
        return found

    async def pending(self, limit: int = 1000, after: int = 0) -> Sequence[OutboxMessage]:
        """Rows to send, oldest first (ids above ``after``): neither sent nor set aside."""
        query = (select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                             OutboxMessage.failed_at.is_(None),
                                             OutboxMessage.id > after)
                 .order_by(OutboxMessage.id).limit(limit))
        return (await self.session.scalars(query)).all()

    async def reference(self, txn_id: str) -> str | None:
        """The event id of the message ``txn_id``, once sent; ``""`` when it will never have
        one (unknown, dropped, set aside as failed, sent as something that is not an event);
        ``None`` while it waits to be sent."""
        row = (await self.session.execute(
            select(OutboxMessage.event_id, OutboxMessage.sent_at, OutboxMessage.failed_at)
            .where(OutboxMessage.txn_id == txn_id))).first()
        if row is None or row.failed_at is not None:
            return ""
        return row.event_id or ("" if row.sent_at is not None else None)

    async def failing(self, message_id: int, at: datetime) -> datetime:
        """Notes the first failure of a row (kept if one was noted before); returns it."""
        row = await self.get(message_id)
        if row is None:
            return at
        if row.failing_since is None:
            row.failing_since = at
        return row.failing_since

    async def mark_failed(self, message_id: int, at: datetime) -> bool:
        """Sets a row aside as failed, unless it was sent (or withdrawn) meanwhile."""
        row = await self.get(message_id)
        if row is None or row.sent_at is not None:
            return False
        row.failed_at = at
        return True

    async def failed(self) -> Sequence[OutboxMessage]:
        """The rows set aside as failed, oldest first."""
        query = (select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
                 .order_by(OutboxMessage.id))
        return (await self.session.scalars(query)).all()

    async def mark_sent(self, message_id: int, event_id: str, at: datetime) -> None:
        await self.session.execute(statements.outbox_sent(),
                                   {"b_id": message_id, "b_sent_at": at, "b_event_id": event_id})

    async def mark_all_sent(self, marks: Sequence[tuple[int, str, datetime]]) -> None:
        """``mark_sent`` for each (id, event id, time), in one statement executed for all."""
        if marks:
            await self.session.execute(statements.outbox_sent(), [
                {"b_id": row, "b_event_id": event, "b_sent_at": at} for row, event, at in marks])

    async def mark_all_sent_by_txn(self, events: dict[str, str], at: datetime) -> None:
        """Marks each message (transaction id -> event id: the sync brought the bot's events
        back with their transaction ids) sent at ``at`` as that event, unless it is marked
        already; one statement executed for all."""
        if events:
            await self.session.execute(statements.outbox_sent_by_txn(), [
                {"b_txn_id": txn, "b_event_id": event, "b_sent_at": at}
                for txn, event in events.items()])

    async def drop(self, message_id: int) -> None:
        """Gives up on a message the homeserver will never accept (room left, forbidden)."""
        row = await self.get(message_id)
        if row is not None:
            await self.session.delete(row)


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
