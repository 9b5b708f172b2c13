"""The outbox: messages, invitations and state events queued to be sent, and the people each
concerns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import statements
from storage.models import OutboxMessage
from storage.personal import people_in
from storage.statements import dialect_of

ID_BATCH = 500  # values in one IN (…) list: SQLite allows 32,766 parameters, a statement stays small
MARK_CHUNK = 250  # marks in one statement: a few milliseconds of SQLite in the loop's thread


class OutboxRepository:
    """Messages to send, each with a stable transaction id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, txn_id: str, room_id: str, content: dict[str, Any], created_at: datetime,
                  event_type: str = "m.room.message", action: str = "send",
                  state_key: str | None = None, about: Iterable[str] = ()) -> OutboxMessage | None:
        """Queues a message (or an invite, a state event); ``None`` if one with this transaction
        id was queued already. With the people it concerns (those its content names,
        ``people_in``, and ``about``): one statement on PostgreSQL; on SQLite one more, a
        single executemany. The row returned is not tracked by the session."""
        values = {"txn_id": txn_id, "room_id": room_id, "event_type": event_type,
                  "action": action, "state_key": state_key,
                  "content": json.dumps(content, ensure_ascii=False), "created_at": created_at}
        people = sorted(people_in(content).union(about))
        dialect = dialect_of(self.session)
        if people and dialect == "postgresql":
            new_id = (await self.session.execute(statements.outbox_insert_concerning(tuple(values)), {
                **{f"b_{name}": value for name, value in values.items()},
                "b_people": people})).scalar()
            return None if new_id is None else OutboxMessage(id=new_id, **values)
        new_id = (await self.session.execute(statements.outbox_insert(dialect), values)).scalar()
        if new_id is None:
            return None
        if people:
            await self.session.execute(statements.outbox_people_insert(), [
                {"outbox_id": new_id, "user_id": user} for user in people])
        return OutboxMessage(id=new_id, **values)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def txn_of(self, event_id: str, room_id: str) -> str | None:
        """The transaction id of the queued message that became ``event_id`` in ``room_id``
        (an event of another room naming it, a reaction or an answer there, finds none)."""
        return await self.session.scalar(
            select(OutboxMessage.txn_id).where(OutboxMessage.event_id == event_id,
                                               OutboxMessage.room_id == room_id))

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
        """``mark_sent`` for each (id, event id, time) (``_in_chunks``)."""
        await self._in_chunks(statements.outbox_sent(), [
            {"b_id": row, "b_event_id": event, "b_sent_at": at} for row, event, at in marks])

    async def mark_all_sent_by_txn(self, events: dict[str, str], at: datetime) -> None:
        """Marks each message (transaction id -> event id: the sync brought the bot's events
        back with their transaction ids) sent at ``at`` as that event, unless it is marked
        already (``_in_chunks``)."""
        await self._in_chunks(statements.outbox_sent_by_txn(), [
            {"b_txn_id": txn, "b_event_id": event, "b_sent_at": at}
            for txn, event in events.items()])

    async def _in_chunks(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """``statement`` executed for each of ``rows``, ``MARK_CHUNK`` at a time, the event loop
        let go between two (a reminder storm's thousand messages are marked at once when the
        sync position is saved; SQLite runs in the loop's thread)."""
        for start in range(0, len(rows), MARK_CHUNK):
            if start:
                await asyncio.sleep(0)
            await self.session.execute(statement, rows[start:start + MARK_CHUNK])

    async def drop(self, message_id: int) -> None:
        """Gives up on a message the homeserver will never accept (room left, forbidden)."""
        row = await self.get(message_id)
        if row is not None:
            await self.session.delete(row)
