"""Scheduled room messages: the first job source of the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.clock import Clock
from bot.outbox import Outbox, txn_id
from bot.render import message_content
from commands.effects import Reply
from commands.jobs import Item
from storage.db import Database


class ScheduledMessages:
    """A message due in a room at a time; sent once, even across crashes."""

    kind = "message"

    def __init__(self, db: Database, outbox: Outbox, clock: Clock) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock

    async def pending(self) -> Sequence[tuple[Item, datetime]]:
        async with self.db.transaction() as repos:
            return [(row.id, row.due_at) for row in await repos.scheduled.pending()]

    async def fire(self, item_id: Item) -> None:
        now = self.clock.now()
        async with self.db.transaction() as repos:
            row = await repos.scheduled.get(int(item_id))
            if row is None or row.sent_at or row.cancelled_at or row.due_at > now:
                return
            content = message_content(Reply(row.markdown))
            await repos.outbox.add(txn_id=txn_id("scheduled", str(row.id)), room_id=row.room_id,
                                   content=content, created_at=now)
            row.sent_at = now
        self.outbox.wake()
