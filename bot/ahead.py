"""Replies sent while the transaction that records them commits (``SentAhead``).

A command's reply is sent ahead only when nothing its commit could still take back shows in
it: the handler wrote nothing and did not fail (``CommandRunner.run``) and its sync batch holds
nothing else to save (``Batch.answers_only``). Its outbox row is written and committed as any
other and handed to the sender after the commit, which finds the send made (or under way) and
marks the row with its event id; a send that failed is the row's first failed try, retried
(and paced) as any other. If the commit fails, no row claims the send: the command runs again
apart from its batch and its row takes that send's event; if the database refuses to save, the
command has its answer (``landed``) and is not run again. After a crash before the commit,
the command comes again and its reply, with the same transaction id, is deduplicated by the
homeserver."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.delivery import Delivery, Queued
from bot.effects import perform
from commands.effects import REF_PREFIX

KEPT_S = 60.0  # a send no committed row claims (its transaction rolled back) is forgotten


class SentAhead:
    """The replies sent ahead of their rows, by transaction id."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self._sends: dict[str, asyncio.Task[str]] = {}

    def start(self, room_id: str, content: dict[str, Any], txn: str) -> bool:
        """Starts sending ``content`` in ``room_id`` (a message of ordinary size that names no
        earlier one); ``False`` if it is not sent ahead."""
        message = Queued(0, room_id, "m.room.message", json.dumps(content, ensure_ascii=False),
                         txn)
        if txn in self._sends or not message.quick or REF_PREFIX in message.content:
            return False
        task = asyncio.create_task(perform(self.delivery, message), name=f"ahead {room_id}")
        task.add_done_callback(_retrieved)
        self._sends[txn] = task
        asyncio.get_running_loop().call_later(KEPT_S, self._forget, txn, task)
        return True

    async def event_id(self, message: Queued) -> str | None:
        """The event id ``message`` got if it was sent ahead (waiting for the send to end);
        ``None`` if it was not (or that send was stopped). A send that failed raises its
        error: the row's attempt failed, and is retried (and paced) as any other."""
        task = await self._ended(message.txn_id)
        if task is None or task.cancelled():
            return None
        return task.result()

    async def landed(self, txn: str) -> bool:
        """Whether the reply of ``txn``, sent ahead of a commit that failed, reached the room
        (waiting for the send to end)."""
        task = await self._ended(txn)
        return task is not None and not task.cancelled() and task.exception() is None

    async def close(self) -> None:
        """Stops the sends under way (their rows, if committed, are sent at the next start)."""
        tasks = list(self._sends.values())
        self._sends.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _ended(self, txn: str) -> asyncio.Task[str] | None:
        """The send of ``txn``, taken and waited for; stopped if the caller is cancelled."""
        task = self._sends.pop(txn, None)
        if task is None:
            return None
        try:
            await asyncio.wait({task})  # its failure is not raised here
        except asyncio.CancelledError:
            task.cancel()
            raise
        return task

    def _forget(self, txn: str, task: asyncio.Task[str]) -> None:
        """Forgets a send no row claimed; one still under way is kept until it ends."""
        if self._sends.get(txn) is not task:
            return
        if task.done():
            del self._sends[txn]
        else:
            asyncio.get_running_loop().call_later(KEPT_S, self._forget, txn, task)


def _retrieved(task: asyncio.Task[str]) -> None:
    """A send's failure is read (not reported as never retrieved): its row's send tells it."""
    if not task.cancelled():
        task.exception()
