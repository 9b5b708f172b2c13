"""Batches kept in memory while another program holds the database's write lock: the sync goes
on; what a read can answer is answered at once, in its room's order; the rest waits for the
lock, its senders told once if that lasts; the batches are saved once the lock is freed."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.batch import Batch, Command
from bot.dispatcher import Dispatcher
from bot.recorder import BatchRecorder
from storage.db import Database
from storage.faults import StorageBusy, StorageUnavailable

log = logging.getLogger("bot.app")  # the bot's records, as the log names them
# Batches kept in memory are saved this many at a time once the lock frees, each group in a
# transaction of its own: a long lock under a stream of commands leaves many batches, which
# saved at once would stop the event loop (``bench.faults``).
SAVED_TOGETHER = 20
Saved = Callable[[Batch, str, list[Command]], Awaitable[None]]


@dataclass
class _Waiting:
    """A command waiting for another program's lock on the database: since when (loop time),
    and whether its sender was told."""

    command: Command
    since: float
    told: bool = False


class UnsavedBatches:
    """``batches``: those kept in memory, oldest first, with their sync tokens; ``on_saved``
    is called with each group saved (batch, token, commands not received before)."""

    def __init__(self, db: Database, dispatcher: Dispatcher, recorder: BatchRecorder,
                 on_saved: Saved) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.recorder = recorder
        self.on_saved = on_saved
        self.batches: list[tuple[Batch, str]] = []
        self.saver: asyncio.Task[None] | None = None  # saves them once the lock is freed
        self._waiting: dict[str, _Waiting] = {}  # by event id
        self._answering: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()  # commands being answered from a read (event ids)
        self._read_turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def keep(self, batch: Batch, token: str) -> list[asyncio.Task[None]]:
        """``batch`` waits in memory (saved, with the sync position, once the lock is freed).
        Each of its commands that a read can answer is answered at once, in its room's order;
        the others wait for the lock, their senders told if it lasts."""
        self.batches.append((batch, token))
        tasks = []
        for command in batch.commands:
            if command.event_id in batch.limited or command.event_id in self.recorder.told_down:
                continue  # answered when the batch is saved, or never run
            task = asyncio.create_task(self._answer_from_read(command))
            self._answering.add(task)
            self._in_flight.add(command.event_id)
            task.add_done_callback(self._answering.discard)
            task.add_done_callback(partial(_discard, self._in_flight, command.event_id))
            tasks.append(task)
        if self.saver is None:
            self.saver = asyncio.create_task(self._save_when_free(), name="saver")
        return tasks

    async def _answer_from_read(self, command: Command) -> None:
        """Answers ``command`` from a read if it needs no write and nothing of its room waits
        before it; else it waits for the lock."""
        async with self._read_turns[command.room_id]:
            blocked = (self.dispatcher.busy(command.room_id)
                       or self.dispatcher.hold(command.room_id) is not None
                       or any(w.command.room_id == command.room_id
                              for w in self._waiting.values()))
            if not blocked and await self.dispatcher.answer_from_read(command):
                self.recorder.answered.add(command.event_id)
                return
            loop = asyncio.get_running_loop()
            self._waiting[command.event_id] = _Waiting(command, loop.time())

    async def _save_when_free(self) -> None:
        """Saves the batches kept in memory once the lock is freed; each waiting command's
        sender is told, once, when it has waited the dispatcher's ``busy_notice_s``."""
        delay = 1.0
        try:
            while self.batches:
                try:
                    await self.save(self._until_next_notice())
                    delay = 1.0
                    continue
                except StorageBusy:
                    await self._tell_waiting()
                    continue
                except StorageUnavailable:  # the database failed otherwise: told, tried again
                    await self.recorder.tell_storage_is_down(
                        [w.command for w in self._waiting.values()])
                    self._waiting.clear()
                except Exception:
                    log.exception("sync batches kept in memory could not be saved; retrying in "
                                  "%.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        finally:
            self.saver = None

    def _until_next_notice(self) -> float:
        """How long the saver may wait for the lock before a waiting command's sender is to be
        told (at most ``busy_notice_s``: a command arriving meanwhile is counted)."""
        limit = float(self.dispatcher.busy_notice_s)
        now = asyncio.get_running_loop().time()
        dues = [w.since + limit - now for w in self._waiting.values() if not w.told]
        return max(0.0, min([max(limit, 1.0), *dues]))

    async def _tell_waiting(self) -> None:
        now = asyncio.get_running_loop().time()
        for waiting in list(self._waiting.values()):
            if not waiting.told and now - waiting.since >= self.dispatcher.busy_notice_s:
                waiting.told = True  # tried once: a notice that could not go is not repeated
                await self.dispatcher.tell_busy(waiting.command)

    async def save(self, patience: float | None) -> None:
        """Saves the batches kept in memory, ``SAVED_TOGETHER`` at a time, each group as one
        batch with its last sync position, once the lock is taken (``StorageBusy`` after
        ``patience`` seconds); then their commands not answered yet run, in order."""
        while self.batches:
            await self._save_some(patience)
            await asyncio.sleep(0)  # the sync and the replies between two groups

    async def _save_some(self, patience: float | None) -> None:
        """Saves the first batches (at most ``SAVED_TOGETHER``) none of whose commands is
        still being answered from a read (recorded as answered once it is): those are waited
        for before the transaction, never in it (a send may wait on the homeserver)."""
        while not self._ready() and self._answering:
            await asyncio.wait(list(self._answering), return_when=asyncio.FIRST_COMPLETED)
        async with self.db.transaction(patience=patience) as repos:
            count = self._ready()  # batches that came while the lock was being taken may wait
            if not count:
                return
            batch, token = self.batches[0]
            for later, _ in self.batches[1:count]:
                batch = batch.then(later)
            token = self.batches[count - 1][1]  # the sync position: the last batch's
            new_commands = await self.recorder.save(repos, batch, token, True)
        del self.batches[:count]
        log.info("sync batches kept while the database was locked are saved",
                 extra={"batches": count, "commands": len(batch.commands),
                        "waited": len(self._waiting)})
        self.recorder.answered.difference_update(c.event_id for c in batch.commands)
        for command in batch.commands:
            self._waiting.pop(command.event_id, None)
        await self.on_saved(batch, token, new_commands)

    def _ready(self) -> int:
        """How many of the first batches have no command still being answered from a read."""
        count = 0
        for batch, _ in self.batches[:SAVED_TOGETHER]:
            if any(command.event_id in self._in_flight for command in batch.commands):
                break
            count += 1
        return count


def _discard(in_flight: set[str], event_id: str, _task: asyncio.Task[None]) -> None:
    in_flight.discard(event_id)
