"""Recording a batch in the caller's transaction: its commands in the inbox (event id primary
key: a re-delivered one is not queued twice), its arrivals in ``welcomes``, the rooms joined
and left, what the capabilities make of its room events, and the sync position."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.batch import Batch, Command
from bot.clock import Clock
from bot.dispatcher import Dispatcher
from bot.effects import queue_effects
from bot.matrix import MatrixTransport
from bot.matrix_api import MatrixError
from bot.outbox import Outbox, txn_id
from bot.render import answer_content
from bot.standing import Standings
from commands.context import Club
from commands.effects import Effect, Reply
from commands.events import RoomEvents
from commands.i18n import Translator
from storage.repositories import NewCommand, Repositories

log = logging.getLogger("bot.app")  # the bot's records, as the log names them
SYNC_TOKEN = "sync_token"


async def write_position(repos: Repositories, token: str,
                         last_events: Mapping[str, str]) -> None:
    """The sync position: the token and the last event seen of each room named (the bot's
    own events synced before it are marked sent first: ``BatchRecorder.write_own_marks``)."""
    await repos.rooms.set_last_events(last_events)
    await repos.state.set(SYNC_TOKEN, token)


class BatchRecorder:
    """Saves batches. ``told_down``: commands answered that nothing could be saved (never
    run; forgotten once their batch is saved with the sync position); ``answered``: commands
    answered from a read while another program held the lock (recorded as handled);
    ``own_seen``: the bot's events synced since the position was last saved (transaction id
    -> event id)."""

    def __init__(self, transport: MatrixTransport, outbox: Outbox, clock: Clock,
                 dispatcher: Dispatcher, standings: Standings, club: Callable[[], Club],
                 t: Translator) -> None:
        self.transport = transport
        self.outbox = outbox
        self.clock = clock
        self.dispatcher = dispatcher
        self.standings = standings
        self.club = club
        self.t = t
        self.told_down: set[str] = set()
        self.answered: set[str] = set()
        self.own_seen: dict[str, str] = {}

    async def save(self, repos: Repositories, batch: Batch, token: str, position: bool,
                   inline: bool = False) -> list[Command]:
        """Saves what the batch asks, with the sync position if ``position`` or if its room
        events gave something to do (a message in a thread that became a comment: read again
        after an erasure dropped its event id, it would be recorded again); returns the
        commands not received before (``batch.positioned``: whether the position was saved).
        ``inline``: the command the dispatcher runs with its batch, if any, is recorded as
        handled (``batch.run_here``; it is run in this transaction or not at all)."""
        now = self.clock.now()
        batch.queued, batch.newcomers = [], 0  # what a rolled back attempt did is gone with it
        batch.run_here = self._run_here(batch) if inline else None
        for room_id in batch.left:
            await repos.rooms.forget(room_id)
        for room_id, joined_at in batch.joined.items():
            await repos.rooms.mark_joined(room_id, joined_at)
        new = await self._save_commands(repos, batch, now)
        for arrival in batch.arrivals:  # greeted later, together (the ``welcomes`` job)
            if await repos.welcomes.first_time(arrival.user_id, arrival.room_id, now):
                batch.newcomers += 1
        if position or batch.reactions or batch.poll_responses or batch.thread_messages:
            await self.write_own_marks(repos, batch.own)
        for redaction in batch.redactions:  # a command taken back: its text goes
            await repos.inbox.withdraw(redaction.redacts, redaction.room_id,
                                       None if redaction.may_redact else redaction.sender, now)
        effects = await self._room_events(repos, batch)
        batch.queued += await queue_effects(repos, effects, f"sync-{token}", now)
        batch.positioned = position or bool(effects)
        if batch.positioned:
            await write_position(repos, token, batch.last_events)
        return new

    async def _save_commands(self, repos: Repositories, batch: Batch,
                             now: datetime) -> list[Command]:
        """The batch's commands in the inbox (``InboxRepository.add_new``); those over their
        sender's rate, or answered from a read, recorded as handled (the notice of the first
        queued as its reply)."""
        commands = [c for c in batch.commands if c.event_id not in self.told_down]
        to_run = {c.event_id for c in commands if self._to_run(batch, c)}
        received = await repos.inbox.add_new([NewCommand(
            event_id=c.event_id, room_id=c.room_id, sender=c.sender, body=c.body,
            sent_at=c.sent_at, received_at=now, thread_root=c.thread_root,
            handled_at=None if c.event_id in to_run and c is not batch.run_here else now)
            for c in commands])
        new = []
        for command in commands:
            if command.event_id not in received:
                continue  # known before (or twice in the batch)
            received.discard(command.event_id)
            notice = batch.limited.get(command.event_id)
            if notice is not None:
                batch.queued += await self.dispatcher.answer_limited(repos, command, notice)
            elif command.event_id in to_run:
                new.append(command)
        return new

    def _to_run(self, batch: Batch, command: Command) -> bool:
        """Whether ``command`` is to run: not over its sender's rate (recorded, never run), not
        answered from a read, not answered that nothing could be saved."""
        return not (command.event_id in batch.limited or command.event_id in self.answered
                    or command.event_id in self.told_down)

    def _run_here(self, batch: Batch) -> Command | None:
        """The command of ``batch`` the dispatcher runs in the transaction that saves it
        (``Dispatcher.runs_with_batch``), among those to run."""
        return self.dispatcher.runs_with_batch(
            [command for command in batch.commands if self._to_run(batch, command)])

    async def _room_events(self, repos: Repositories, batch: Batch) -> list[Effect]:
        """What the capabilities make of the batch's room events from club members: native
        poll responses, reactions, messages in threads, and redactions (the capabilities'
        wiring)."""
        effects: list[Effect] = []
        club = self.club()
        responses = [r for r in batch.poll_responses
                     if await self.standings.is_member(r.sender, repos)]
        registry = self.dispatcher.registry  # what the capabilities consume
        for answers in registry.poll_answers if responses else ():
            effects += await answers(repos, responses, club, self.t)
        reactions = [r for r in batch.reactions if await self.standings.is_member(r.sender, repos)]
        threads = [m for m in batch.thread_messages
                   if await self.standings.is_member(m.sender, repos)]
        if reactions or batch.redactions or threads:
            events = RoomEvents(reactions, batch.redactions, threads)
            for consume in registry.consumers:
                effects += await consume(repos, events, club, self.t)
        return effects

    async def write_own_marks(self, repos: Repositories, own: Mapping[str, str]) -> None:
        """Marks sent, in the caller's transaction, the rows the bot has sent and not marked
        yet (the outbox marks them a moment after sending) and those whose event the sync
        brought back (``own``, and the batches not saved since the last position): a 👍 or a
        vote on a message just sent finds it, and the sync position never passes one of the
        bot's events whose row is unmarked — after a crash between the send and the mark,
        the event comes back with the next start's first sync, and the 👍s made meanwhile
        with it."""
        await repos.outbox.mark_all_sent(self.outbox.unmarked())
        await repos.outbox.mark_all_sent_by_txn({**self.own_seen, **own}, self.clock.now())

    async def tell_storage_is_down(self, commands: list[Command]) -> None:
        """The database refuses writes (read-only, disk full…): each command is answered at
        once, without the outbox, that nothing was saved; it will not be run when the database
        is back (the person was told to try again). A command whose reply was sent ahead of
        the commit that failed (``bot.ahead``) has its answer: it is not told, nor run again."""
        for command in commands:
            if command.event_id in self.told_down:
                continue
            if await self.outbox.ahead.landed(txn_id("reply", command.event_id)):
                self.told_down.add(command.event_id)
                continue
            reply = Reply(self.t("error.storage_unavailable"))
            content = answer_content(reply, command)
            try:
                await asyncio.wait_for(self.transport.send(
                    command.room_id, content, txn_id("storage", command.event_id)), 30)
            except (MatrixError, TimeoutError) as error:
                log.warning("could not tell %s that the database is down (%s)", command.sender,
                            error)
                continue
            self.told_down.add(command.event_id)
