"""One sync response, end to end: read (``bot.reader``), saved with its commands and the sync
position in one transaction (``bot.recorder``), the commands handed to the dispatcher in it
(``Dispatcher.take``); while another program holds the database's lock, kept in memory
(``bot.unsaved``). The sync position is saved only with a batch that could not be read again
harmlessly, every few minutes, and at stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from nio import SyncResponse

from bot.batch import Arrival, Batch, Command
from bot.dispatcher import Dispatcher, Taken
from bot.invites import Invitations
from bot.outbox import Outbox
from bot.reader import BatchReader
from bot.recorder import BatchRecorder, write_position
from bot.rooms import Rooms
from bot.scheduler import Scheduler
from bot.unsaved import UnsavedBatches
from commands.jobs import ARRIVALS
from storage.db import Database
from storage.faults import StorageBusy, StorageUnavailable
from storage.undo import CannotUndo

log = logging.getLogger("bot.app")  # the bot's records, as the log names them
# A batch with nothing to save leaves its token in memory; it is saved with the next batch
# that has something, at stop, or after this long. Losing it (kill -9) only replays batches
# that held nothing to act on.
TOKEN_SAVE_EVERY_S = 300.0
# At stop, how long batches kept in memory (another program holding the database's lock) wait
# for it before being left to the next start (which reads them again from the saved token).
STOP_LOCK_WAIT_S = 10.0


class SyncBatches:
    """Handles sync responses. ``token``: the sync token of the last batch handled;
    ``saved_token``: the one the database holds."""

    def __init__(self, db: Database, outbox: Outbox, dispatcher: Dispatcher, rooms: Rooms,
                 invitations: Invitations, reader: BatchReader, recorder: BatchRecorder,
                 scheduler: Scheduler, forget: Callable[[str], None]) -> None:
        self.db = db
        self.outbox = outbox
        self.dispatcher = dispatcher
        self.rooms = rooms
        self.invitations = invitations
        self.reader = reader
        self.recorder = recorder
        self.scheduler = scheduler
        self.forget = forget
        self.unsaved = UnsavedBatches(db, dispatcher, recorder, self._saved_unsaved)
        self.token: str | None = None
        self.saved_token: str | None = None
        self.saved_at = 0.0  # loop time of the last save

    def position_saved(self, token: str | None) -> None:
        """The database holds ``token`` (read at start, or just written)."""
        self.token = self.saved_token = token
        self.saved_at = asyncio.get_running_loop().time()

    async def handle(self, response: SyncResponse) -> list[asyncio.Task[None]]:
        """Reads the batch and saves it with its commands and the sync position, in one
        transaction (a lone command runs in it); the tasks of the commands started in the
        background are returned."""
        batch = await self._read(response)
        if batch.maybe_arrivals:
            self._arrivals_once_known(batch.maybe_arrivals)
        token = response.next_batch
        position = self._position_due(batch)
        if batch.is_empty() and not (position or self.unsaved.batches):
            self._remember(batch, token)  # nothing to lose: saved with a later batch
            self.recorder.own_seen.update(batch.own)
            return []
        if self.unsaved.batches:  # waiting for another program's lock: this batch waits behind
            return self._keep_unsaved(batch, token)
        try:
            taken, new_commands = await self._save(batch, token, position)
        except StorageBusy:
            return self._keep_unsaved(batch, token)
        except StorageUnavailable:  # those over their sender's rate: answered as such later
            await self.recorder.tell_storage_is_down(
                [c for c in batch.commands if c.event_id not in batch.limited])
            raise
        log.debug("sync batch saved", extra={
            "commands": len(batch.commands), "new_commands": new_commands,
            "inline": len(taken.handled), "reactions": len(batch.reactions),
            "rooms": len(response.rooms.join), "token": token})
        self._remember(batch, token)
        return await self._saved(batch, token, batch.positioned, taken)

    async def _read(self, response: SyncResponse) -> Batch:
        """The batch of ``response``: the rooms left forgotten, invitations answered, commands
        taken back or over their sender's rate set aside."""
        left = self.rooms.left(response)
        for room_id in left:
            self.forget(room_id)
        self.invitations.answer(response)
        batch = await self.reader.read(self.rooms.known, response)
        batch.left = [room_id for room_id in left if room_id not in self.rooms.known]
        self.dispatcher.note_redactions(batch.redactions)
        batch.limited = await self.dispatcher.screen(
            [c for c in batch.commands if c.event_id not in self.recorder.told_down])
        return batch

    async def _save(self, batch: Batch, token: str, position: bool) -> tuple[Taken, int]:
        """Saves the batch and hands its new commands to the dispatcher, in one transaction
        that does not wait for another program's lock (``StorageBusy``: the sync must go on).
        If a command run in it fails in a way the dispatcher did not catch, the batch is saved
        again with its commands left to the background, so that no command can keep the sync
        position from moving on."""
        try:
            return await self._save_and_take(batch, token, position, inline=True)
        except StorageUnavailable:
            raise
        except CannotUndo:  # it wrote, then refused or failed: undone with its batch
            log.info("a command that failed after writing is run again apart from its batch")
        except Exception:
            log.exception("a command could not run with its batch; queued instead")
        return await self._save_and_take(batch, token, position, inline=False)

    async def _save_and_take(self, batch: Batch, token: str, position: bool,
                             inline: bool) -> tuple[Taken, int]:
        async with self.db.transaction(patience=0) as repos:
            new_commands = await self.recorder.save(repos, batch, token, position, inline)
            taken = await self.dispatcher.take(repos, new_commands, batch.run_here,
                                               alone=batch.answers_only())
        return taken, len(new_commands)

    async def _saved(self, batch: Batch, token: str, position: bool,
                     taken: Taken) -> list[asyncio.Task[None]]:
        """Once ``batch`` is committed: its messages go, its commands run. With the sync
        position, its commands will not come again: those told that nothing could be saved
        are forgotten."""
        if position:
            self.saved_at = asyncio.get_running_loop().time()
            self.saved_token = token
            self.recorder.own_seen.clear()
            self.recorder.told_down.difference_update(c.event_id for c in batch.commands)
        else:
            self.recorder.own_seen.update(batch.own)
        for message in batch.queued:
            self.outbox.push(message)
        tasks = await taken.start()
        if batch.newcomers:
            await self._schedule_welcomes()
        return tasks

    async def _saved_unsaved(self, batch: Batch, token: str,
                             new_commands: list[Command]) -> None:
        """Batches kept in memory are saved: their commands not answered yet run."""
        await self._saved(batch, token, True, Taken(self.dispatcher, later=list(new_commands)))

    def _keep_unsaved(self, batch: Batch, token: str) -> list[asyncio.Task[None]]:
        """Another program holds the database's write lock: ``batch`` waits in memory and the
        sync goes on (``UnsavedBatches``)."""
        self._remember(batch, token)
        return self.unsaved.keep(batch, token)

    def _arrivals_once_known(self, arrivals: list[Arrival]) -> None:
        """Arrivals in rooms that may be configured rooms still being resolved: those in the
        club's rooms are recorded, to be welcomed, once every configured room is resolved."""
        at = self.recorder.clock.now()
        self.rooms.tasks.append(asyncio.create_task(self._record_arrivals(arrivals, at),
                                                    name="arrivals"))

    async def _record_arrivals(self, arrivals: list[Arrival], at: datetime) -> None:
        await self.rooms.known_all.wait()
        club = [arrival for arrival in arrivals if arrival.room_id in self.rooms.club_rooms]
        if not club:
            return
        try:
            async with self.db.transaction() as repos:
                newcomers = [arrival for arrival in club
                             if await repos.welcomes.first_time(arrival.user_id,
                                                                arrival.room_id, at)]
        except Exception:
            log.exception("%d newcomer(s) in a room found late could not be recorded; they "
                          "will not be welcomed", len(club))
            return
        if newcomers:
            await self._schedule_welcomes()

    async def _schedule_welcomes(self) -> None:
        """Newcomers were recorded: the welcomes' timer moves to the next one due."""
        try:
            await self.scheduler.refresh(ARRIVALS)
        except Exception:
            log.exception("the welcomes could not be scheduled now; they will be with the next "
                          "arrival, after the next welcome, or at the next start")

    def _position_due(self, batch: Batch) -> bool:
        """Whether the sync position (token, rooms' last events) is saved with ``batch``: when
        reading it again would not be harmless (its effects are keyed by the batch; a command
        answered that nothing could be saved must never run later), else every few minutes
        (and at stop)."""
        loop_time = asyncio.get_running_loop().time()
        return (not batch.is_repeatable() or loop_time - self.saved_at >= TOKEN_SAVE_EVERY_S
                or any(c.event_id in self.recorder.told_down for c in batch.commands))

    def _remember(self, batch: Batch, token: str) -> None:
        """What the bot keeps in memory of a batch (the database has it, or does not need it)."""
        self.token = token
        self.rooms.remember(batch)

    async def save_position(self) -> None:
        """At stop: saves the sync position kept in memory since the last batch that saved it,
        after the batches kept in memory; not if they cannot be saved (the next start reads
        them again)."""
        if self.unsaved.batches:
            try:
                await self.unsaved.save(STOP_LOCK_WAIT_S)
            except StorageUnavailable:
                log.warning("the database is still locked by another program: %d sync "
                            "batch(es) not saved; the next start reads them again",
                            len(self.unsaved.batches))
                return
        if self.token is None or self.token == self.saved_token:
            return  # saved already (the rooms' last events move only with the token)
        try:
            async with self.db.transaction(patience=STOP_LOCK_WAIT_S) as repos:
                await self.recorder.write_own_marks(repos, {})
                await write_position(repos, self.token, self.rooms.last_events())
            self.recorder.own_seen.clear()
        except StorageUnavailable:
            log.warning("the sync token could not be saved; the next start reads a little "
                        "history again")
