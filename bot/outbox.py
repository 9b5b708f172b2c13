"""Sends queued rows exactly once, each room's in order, rooms independently: each row has a
transaction id derived from what it is, so a retry after a crash is deduplicated by the
homeserver. Besides messages, a row may invite, set state, pin, upload, leave, or open a room
(``create_room``, ``direct_room``: the room's outcome is recorded with the row marked sent, in
one transaction): each ``action`` is performed by its executor (``bot.effects``).

The outbox is the one place that tries a row's requests again (the transport makes one request
per call). A row that fails is retried with growing waits (jitter included; ``bot.failures``).
While it is retried, the rows after it in its room wait — a short outage keeps every room's
order — until it has failed for ``hold_s`` while the homeserver answered other requests: then
it is the one to blame, it is set aside and retried on its own, and its room's later rows go on
(a row that names it by ``ref`` waits for it, or is dropped with it). After ``retry_for`` since
its first failure it is set aside for good (``failed_at``): logged, reported once
(``on_failed``), a room it was to open told as not opened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.ahead import SentAhead
from bot.clock import Clock
from bot.delivery import (
    OUTCOME,
    REFUSED,
    Delivery,
    Queued,
    RoomOpened,
    UnresolvedReference,
    WaitingForReference,
)
from bot.effects import executor_of, perform
from bot.failures import HOLD_S, LONGEST_WAIT_S, Failures, now
from bot.marks import Marks
from bot.matrix_api import MatrixError
from bot.transport import Transport
from commands.effects import txn_id
from storage.db import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)
RECENTLY_SENT = 10000
SCAN_PAGE = 100
__all__ = ["OUTCOME", "REFUSED", "Outbox", "Queued", "RoomOpened", "RowFailed", "txn_id"]

RowFailed = Callable[[Repositories, Queued, datetime], Awaitable[list[Queued]]]
"""Reports a row set aside for good (failing since the datetime), in the transaction that sets
it aside; returns the rows it queued (the report)."""


class Outbox:
    """The single sender: one worker per room with rows to send, each room's rows oldest
    first; rows set aside retried on their own."""

    def __init__(self, db: Database, transport: Transport, clock: Clock, *,
                 retry_for: timedelta = timedelta(hours=24), first_wait_s: float = 1.0,
                 longest_wait_s: float = LONGEST_WAIT_S, hold_s: float = HOLD_S) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self.delivery = Delivery(db, transport, clock, self.push, self.write_marks)
        self.ahead = SentAhead(self.delivery)  # replies sent while their row commits
        self.failures = Failures(db, clock, retry_for=retry_for, first_wait_s=first_wait_s,
                                 longest_wait_s=longest_wait_s, hold_s=hold_s)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Event()  # set when a row is done with or fails
        self.pushes = 0  # rows handed over so far: ``settled(since=…)`` waits for later ones
        self._order: dict[int, int] = {}  # a row in a queue: its place in the handing over
        self._lanes: dict[str, deque[Queued]] = {}  # each room's rows to send, oldest first
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._aside: dict[int, asyncio.Task[None]] = {}  # rows set aside, retried on their own
        self._known: set[int] = set()  # row ids in a lane or set aside
        self._scan = True  # rows may be in the database that were not handed over in memory
        self._wake.set()
        self._running = False  # ``run``: each room's worker sends as soon as rows come
        self._sent: OrderedDict[int, None] = OrderedDict()  # recently sent row ids
        self.marks = Marks(db)
        self._answered = 0.0  # loop time of the last row performed
        self.sent_count = 0
        self.on_failed: RowFailed | None = None  # set by the runtime (the dispatcher)

    def push(self, message: Queued) -> None:
        """Sends a just-committed message as soon as possible (after its room's earlier ones)."""
        if message.id in self._sent or message.id in self._known:
            return
        self._known.add(message.id)
        self.pushes += 1
        self._order[message.id] = self.pushes
        self._lanes.setdefault(message.room_id, deque()).append(message)
        self._idle.clear()
        if self._running:
            self._start_worker(message.room_id)

    def send_ahead(self, room_id: str, content: dict[str, Any], txn: str) -> bool:
        """Sends a reply whose row is not committed yet (``bot.ahead``), unless the room has
        rows waiting (it would pass them) or the sender is not running; ``False`` if not sent."""
        if not self._running or self._scan or self._lanes.get(room_id):
            return False
        return self.ahead.start(room_id, content, txn)

    def _start_worker(self, room_id: str) -> None:
        if room_id not in self._workers:
            self._workers[room_id] = asyncio.create_task(self._work(room_id),
                                                         name=f"outbox {room_id}")

    def wake(self) -> None:
        """Messages were committed without being handed over: the database is read for them."""
        self._scan = True
        self._idle.clear()
        self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing handed over or woken for is left to send (rows set aside do not count)."""
        return self._idle.is_set()

    @property
    def handed_over(self) -> int:
        """How many rows wait in the rooms' queues (set aside ones not counted)."""
        return sum(len(lane) for lane in self._lanes.values())

    async def settled(self, limit_s: float, since: int = 0, *, quick_only: bool = False) -> None:
        """Waits (at most ``limit_s``) until the rows handed over after the ``since``-th are
        sent or wait behind a failing row (with ``quick_only``, or one long to send by nature:
        ``Queued.quick``): an older row's long try holds up no other wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while self._scan or not all(self._lane_settled(lane, since, quick_only)
                                    for lane in self._lanes.values()):
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), max(0.0, deadline - loop.time()))
            if loop.time() >= deadline:
                return

    def _lane_settled(self, lane: deque[Queued], since: int, quick_only: bool) -> bool:
        for message in lane:
            if message.id in self.failures.rows or (quick_only and not message.quick):
                return True  # what follows waits behind a long try
            if self._order.get(message.id, 0) > since:
                return False
        return True

    def _check_idle(self) -> None:
        self._progress.set()
        if not self._scan and not any(self._lanes.values()):
            self._idle.set()

    async def run(self) -> None:
        """Reads the database for rows not handed over (at start, when woken), forever (until
        cancelled); the rooms' workers send them."""
        delay = 1.0
        self._running = True
        for room_id in list(self._lanes):
            self._start_worker(room_id)
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                try:
                    await self._scan_pending()
                    delay = 1.0
                except Exception:
                    log.exception("outbox: reading the queue failed; retrying in %.0fs", delay)
                    self._scan = True
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
                    self._wake.set()
                self._check_idle()
        finally:
            self._running = False
            await self._stop_workers()

    async def close(self) -> None:
        """Stops sending (what is left stays queued in the database for the next start)."""
        await self._stop_workers()
        await self.ahead.close()
        await self.marks.close()

    async def _stop_workers(self) -> None:
        tasks = [*self._workers.values(), *self._aside.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def read_queue(self) -> None:
        """Reads the rows queued in the database (at start: before anything new is pushed,
        so that each room's go first)."""
        self._scan = True
        await self._scan_pending()

    async def _scan_pending(self) -> None:
        """Hands over the rows of the database not sent, not set aside, not known yet."""
        if not self._scan:
            return
        self._scan = False
        await self.write_marks()  # what is sent is not read as pending
        after = 0
        while True:
            async with self.db.transaction() as repos:
                rows = [Queued.of(row) for row in
                        await repos.outbox.pending(limit=SCAN_PAGE, after=after)]
            if not rows:
                return
            for message in rows:
                self.push(message)
            after = rows[-1].id

    async def flush(self, *, mark_now: bool = True) -> None:
        """Sends every pending message now (those handed over in memory, then the
        database's), with the sender not running (tests, the stop): each room's rows until
        they are sent or one fails (tried again later). The marks are written at once, or a
        moment later as always (``mark_now=False``)."""
        self._scan = True
        await self._scan_pending()
        failed: set[str] = set()  # rooms whose queue waits behind a row that failed
        while True:
            for room_id, lane in list(self._lanes.items()):
                if lane and room_id not in failed:  # new queues too (rooms just opened…)
                    self._start_worker(room_id)
            if not self._workers:
                break
            done, _ = await asyncio.wait(list(self._workers.values()))
            for task in done:  # what ``_attempt`` does not catch (the process dying) goes on up
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            failed.update(room_id for room_id, lane in self._lanes.items()
                          if lane and lane[0].id in self.failures.rows)
        if mark_now:
            await self._mark_now()

    async def _mark_now(self) -> None:
        await self.marks.write_now()
        self._check_idle()

    async def write_marks(self) -> None:
        """Marks what was sent as sent in the database, in one transaction."""
        await self.marks.write()

    def unmarked(self) -> list[tuple[int, str, datetime]]:
        """The rows sent whose mark is not written yet (id, event id, time): a sync batch that
        reads the bot's events writes them in its own transaction first (``mark_sent`` is
        idempotent), so that a 👍 on a message sent a moment ago finds it."""
        return self.marks.unmarked()

    # --- one room's rows --------------------------------------------------------------------
    async def _work(self, room_id: str) -> None:
        """Sends the room's rows in order; a failing one holds the others until it is set
        aside (``_to_blame``)."""
        lane = self._lanes[room_id]
        try:
            while lane:
                message = lane[0]
                if await self._attempt(message):
                    lane.popleft()
                    self._known.discard(message.id)
                    self._order.pop(message.id, None)
                    continue
                failing = self.failures.rows[message.id]
                if not self._running:
                    return  # ``flush``: tried again later
                if self.failures.to_blame(failing, max(self._answered,
                                                       self.transport.answered_at)):
                    lane.popleft()
                    self._order.pop(message.id, None)
                    self._set_aside(message)
                    continue
                await asyncio.sleep(max(0.0, failing.retry_at - now()))
        finally:
            if self._workers.get(room_id) is asyncio.current_task():
                del self._workers[room_id]
            if not lane and self._lanes.get(room_id) is lane:
                del self._lanes[room_id]
            self._check_idle()

    def _set_aside(self, message: Queued) -> None:
        log.warning("outbox: %s %s to %s keeps failing; the room's later rows go on, it is "
                    "retried on its own", message.action, message.id, message.room_id,
                    extra={"row": message.id, "room": message.room_id})
        self._aside[message.id] = asyncio.create_task(self._retry_aside(message),
                                                      name=f"outbox row {message.id}")

    async def _retry_aside(self, message: Queued) -> None:
        try:
            while True:
                failing = self.failures.rows.get(message.id)
                if failing is not None:
                    await asyncio.sleep(max(0.0, failing.retry_at - now()))
                if await self._attempt(message):
                    return
        finally:
            self._aside.pop(message.id, None)
            self._known.discard(message.id)

    async def _attempt(self, message: Queued) -> bool:
        """Tries the row once: ``True`` when it is done with (sent, dropped, set aside for
        good), ``False`` when it failed and is to be tried again (``failures``)."""
        if message.id in self._sent:
            return True
        try:
            return await self._attempt_once(message)
        finally:
            self._progress.set()

    async def _attempt_once(self, message: Queued) -> bool:
        started = now()
        try:
            event_id = await self.ahead.event_id(message)
            if event_id is None:
                event_id = await perform(self.delivery, message)
        except UnresolvedReference as error:
            return await self._drop(message, f"names a message never sent ({error})")
        except MatrixError as error:
            if not error.permanent:
                return await self._failed(message, error, started,
                                          paced=error.retry_after is not None)
            return await self._drop(message, f"refused for good ({error})")
        except WaitingForReference as error:
            return await self._failed(message, error, started, paced=False)
        except Exception as error:
            log.exception("outbox: %s %s to %s failed", message.action, message.id,
                          message.room_id)
            return await self._failed(message, error, started, paced=False)
        self._done(message, event_id)
        return True

    async def _drop(self, message: Queued, why: str) -> bool:
        """Drops a row that can never be sent (logged); done with it (``True``)."""
        log.error("%s %s to %s %s; dropped", message.action, message.id, message.room_id, why)
        self.failures.rows.pop(message.id, None)
        try:
            async with self.db.transaction() as repos:
                await repos.outbox.drop(message.id)
        except Exception:
            log.exception("outbox: row %s could not be dropped; it stays queued", message.id)
        return True

    def _done(self, message: Queued, event_id: str) -> None:
        log.debug("outbox: %s sent", message.action, extra={  # done, whatever happens next
            "action": message.action, "row": message.id, "room": message.room_id,
            "sent_event": event_id})
        if self.failures.rows.pop(message.id, None) is not None:
            log.info("outbox: %s %s to %s went through after failing", message.action,
                     message.id, message.room_id)
        self._answered = now()
        if not executor_of(message).opens_room:  # marked when its outcome was recorded
            self.marks.add(message.id, event_id, self.clock.now())
        self._sent[message.id] = None
        while len(self._sent) > RECENTLY_SENT:
            self._sent.popitem(last=False)
        self.sent_count += 1

    async def _failed(self, message: Queued, error: BaseException, started: float, *,
                      paced: bool) -> bool:
        """Notes a failure and when to try again (``Failures.note``); past ``retry_for`` since
        the first one, the row is set aside for good (``True``)."""
        failing = await self.failures.note(message, error, started, paced=paced)
        if failing is None:
            await self._give_up(message, error)
            return True
        return False

    async def _give_up(self, message: Queued, error: BaseException) -> None:
        """Sets a row aside for good: logged, its room's outcome told (not opened), reported."""
        failing = self.failures.rows.pop(message.id)
        hours = (self.clock.now() - failing.since).total_seconds() / 3600
        log.error("outbox: %s %s to %s set aside after %.1f h of failures (%s)", message.action,
                  message.id, message.room_id, hours, error,
                  extra={"event_kind": "outbox_failed", "row": message.id,
                         "room": message.room_id, "action": message.action})
        if executor_of(message).opens_room:  # told as refused: « je n'ai pas pu créer… »
            self.delivery.give_up_opening(message.id)
            try:
                await perform(self.delivery, message)
            except Exception:
                log.exception("outbox: the outcome of row %s could not be recorded", message.id)
        queued: list[Queued] = []
        try:
            async with self.db.transaction() as repos:
                await repos.outbox.mark_failed(message.id, self.clock.now())
                if self.on_failed is not None:
                    queued = await self.on_failed(repos, message, failing.since)
        except Exception:
            log.exception("outbox: row %s could not be set aside", message.id)
            return
        for row in queued:
            self.push(row)
