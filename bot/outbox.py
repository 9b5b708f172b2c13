"""Sends queued rows exactly once, each room's in order, rooms independently: each row has a
transaction id derived from what it is, so a retry after a crash is deduplicated by the
homeserver. Besides messages, a row may invite, set state, pin, upload, leave, or open a room
(``create_room``, ``direct_room``: the room's outcome is recorded with the row marked sent, in
one transaction).

A row that fails is retried with growing waits (jitter included). While it is retried, the rows
after it in its room wait — a short outage keeps every room's order — until it has failed for
``hold_s`` while the homeserver answered other requests: then it is the one to blame, it is set
aside and retried on its own, and its room's later rows go on (a row that names it by ``ref``
waits for it, or is dropped with it). After ``retry_for`` since its first failure it is set
aside for good (``failed_at``): logged, reported once (``on_failed``), a room it was to open
told as not opened."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import oversize
from bot.clock import Clock
from bot.matrix import MatrixError, NewRoom, Transport, backoff
from commands.effects import REF_PREFIX, txn_id
from commands.i18n import Translator
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import Repositories

log = logging.getLogger(__name__)
RECENTLY_SENT = 10000
# A sent message is marked sent in the database a moment later, with the others sent meanwhile:
# not while the homeserver is busy delivering it. Until then, a crash sends it again with the
# same transaction id, which the homeserver deduplicates.
MARK_AFTER_S = 0.2
REFUSED = "refused"  # in an invite's or a pin's row: the message posted if it is forbidden
OUTCOME = "outcome"  # in a row opening a room: what to do once it is opened (or refused)
OPENS_ROOM = ("create_room", "direct_room")
HOLD_S = 60.0  # how long a failing row holds its room's later rows (the homeserver answering)
LONGEST_WAIT_S = 600.0  # the longest wait between two tries of a failing row
SCAN_PAGE = 100
__all__ = ["OUTCOME", "REFUSED", "Outbox", "Queued", "RoomOpened", "RowFailed",
           "UnresolvedReference", "txn_id"]


class UnresolvedReference(Exception):
    """A message names an earlier one that was never sent (refused or set aside for good)."""


class WaitingForReference(Exception):
    """A message names an earlier one not sent yet (set aside, retried): it waits for it."""


@dataclass(frozen=True)
class Queued:
    """A committed outbox row, handed to the sender in memory (no re-read before sending)."""

    id: int
    room_id: str
    event_type: str
    content: str
    txn_id: str
    action: str = "send"
    state_key: str | None = None
    failing_since: datetime | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> Queued:
        return cls(row.id, row.room_id, row.event_type, row.content, row.txn_id, row.action,
                   row.state_key, row.failing_since)


RoomOpened = Callable[[Repositories, Queued, dict[str, Any], NewRoom | None],
                      Awaitable[list[Queued]]]
"""Records what became of a room a row opened (``None``: refused), in the caller's transaction;
returns the rows it queued (the messages telling it, the invitations)."""

RowFailed = Callable[[Repositories, Queued, datetime], Awaitable[list[Queued]]]
"""Reports a row set aside for good (failing since the datetime), in the transaction that sets
it aside; returns the rows it queued (the report)."""


@dataclass
class _Failing:
    """A row that failed and is retried: since when (the database's clock, kept across
    restarts), since when in this process (loop time), how many tries, the next one."""

    since: datetime
    first: float
    tries: int
    retry_at: float
    paced: bool  # the last failure was the homeserver's pace (a 429), not the row's fault


class Outbox:
    """The single sender: one worker per room with rows to send, each room's rows oldest
    first; rows set aside retried on their own."""

    def __init__(self, db: Database, transport: Transport, clock: Clock, *,
                 retry_for: timedelta = timedelta(hours=24), first_wait_s: float = 1.0,
                 longest_wait_s: float = LONGEST_WAIT_S, hold_s: float = HOLD_S) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self.retry_for = retry_for
        self.first_wait_s = first_wait_s
        self.longest_wait_s = longest_wait_s
        self.hold_s = hold_s
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
        self._failing: dict[int, _Failing] = {}
        self._scan = True  # rows may be in the database that were not handed over in memory
        self._wake.set()
        self._running = False  # ``run``: each room's worker sends as soon as rows come
        self._sent: OrderedDict[int, None] = OrderedDict()  # recently sent row ids
        self._marks: list[tuple[int, str, datetime]] = []  # sent, not yet marked in the database
        self._marking: asyncio.Task[None] | None = None
        self._answered = 0.0  # loop time of the last row performed
        self.sent_count = 0
        self.on_room_opened: RoomOpened | None = None  # set by the runtime (the dispatcher)
        self.on_failed: RowFailed | None = None  # set by the runtime (the dispatcher)
        self._opened: dict[int, NewRoom | None] = {}  # rooms opened, their outcome not recorded
        self.t = Translator("fr")  # set by the runtime (the club's language)

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

    async def settled(self, limit_s: float, since: int = 0) -> None:
        """Waits (at most ``limit_s`` seconds) until the rows handed over after the ``since``-th
        one are sent, or wait behind a row that failed and is to be tried again: a room held
        by a failing row, or a row still in its first long try, does not hold up the others'
        waits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while not self._only_failing_left(since):
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), max(0.0, deadline - loop.time()))
            if loop.time() >= deadline:
                return

    def _only_failing_left(self, since: int) -> bool:
        """No room's queue holds a row handed over after the ``since``-th one, except behind
        a row waiting to be tried again."""
        return not self._scan and all(
            not lane or lane[0].id in self._failing
            or all(self._order.get(message.id, 0) <= since for message in lane)
            for lane in self._lanes.values())

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
        if self._marking is not None:
            self._marking.cancel()
            await asyncio.gather(self._marking, return_exceptions=True)
            self._marking = None

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

    async def send_all(self) -> None:
        """Sends every pending message now (those handed over in memory, then the
        database's), with the sender not running (tests, the stop): each room's rows until
        they are sent or one fails (tried again later). The marks are written a moment later,
        as always."""
        self._scan = True
        await self._scan_pending()
        failed: set[str] = set()  # rooms whose queue waits behind a row that failed
        while True:
            for room_id, lane in list(self._lanes.items()):
                if lane and room_id not in failed:  # new queues too (rooms just opened…)
                    self._start_worker(room_id)
            if not self._workers:
                return
            done, _ = await asyncio.wait(list(self._workers.values()))
            for task in done:  # what ``_attempt`` does not catch (the process dying) goes on up
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            failed.update(room_id for room_id, lane in self._lanes.items()
                          if lane and lane[0].id in self._failing)

    async def flush(self) -> None:
        """``send_all``, and the marks written at once."""
        await self.send_all()
        if self._marking is not None:
            self._marking.cancel()  # written now instead
            self._marking = None
        await self.write_marks()
        self._check_idle()

    async def write_marks(self) -> None:
        """Marks what was sent as sent in the database, in one transaction."""
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self.db.transaction() as repos:
                for row_id, event_id, at in marks:
                    await repos.outbox.mark_sent(row_id, event_id, at)
        except BaseException:
            self._marks = marks + self._marks  # kept for the next try (sent only once meanwhile)
            raise

    def unmarked(self) -> list[tuple[int, str, datetime]]:
        """The rows sent whose mark is not written yet (id, event id, time): a sync batch that
        reads the bot's events writes them in its own transaction first (``mark_sent`` is
        idempotent), so that a 👍 on a message sent a moment ago finds it."""
        return list(self._marks)

    async def _write_marks_soon(self) -> None:
        await asyncio.sleep(MARK_AFTER_S)
        self._marking = None
        try:
            await self.write_marks()
        except Exception:
            log.exception("outbox: could not mark %d message(s) sent; retrying", len(self._marks))
            self._schedule_marks()

    def _schedule_marks(self) -> None:
        if self._marking is None:
            self._marking = asyncio.create_task(self._write_marks_soon())

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
                failing = self._failing[message.id]
                if not self._running:
                    return  # ``flush``: tried again later
                if self._to_blame(failing):
                    lane.popleft()
                    self._order.pop(message.id, None)
                    self._set_aside(message)
                    continue
                await asyncio.sleep(max(0.0, failing.retry_at - self._now()))
        finally:
            if self._workers.get(room_id) is asyncio.current_task():
                del self._workers[room_id]
            if not lane and self._lanes.get(room_id) is lane:
                del self._lanes[room_id]
            self._check_idle()

    def _to_blame(self, failing: _Failing) -> bool:
        """Whether a failing row, not the homeserver, is the trouble: it has failed for
        ``hold_s``, not for the homeserver's pace, and the homeserver answered meanwhile."""
        answered = max(self._answered, getattr(self.transport, "answered_at", 0.0))
        return (not failing.paced and self._now() - failing.first >= self.hold_s
                and answered > failing.first)

    def _set_aside(self, message: Queued) -> None:
        log.warning("outbox: %s %s to %s keeps failing; the room's later rows go on, it is "
                    "retried on its own", message.action, message.id, message.room_id,
                    extra={"row": message.id, "room": message.room_id})
        self._aside[message.id] = asyncio.create_task(self._retry_aside(message),
                                                      name=f"outbox row {message.id}")

    async def _retry_aside(self, message: Queued) -> None:
        try:
            while True:
                failing = self._failing.get(message.id)
                if failing is not None:
                    await asyncio.sleep(max(0.0, failing.retry_at - self._now()))
                if await self._attempt(message):
                    return
        finally:
            self._aside.pop(message.id, None)
            self._known.discard(message.id)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    async def _attempt(self, message: Queued) -> bool:
        """Tries the row once: ``True`` when it is done with (sent, dropped, set aside for
        good), ``False`` when it failed and is to be tried again (``_failing``)."""
        if message.id in self._sent:
            return True
        try:
            return await self._attempt_once(message)
        finally:
            self._progress.set()

    async def _attempt_once(self, message: Queued) -> bool:
        started = self._now()
        try:
            event_id = await self._perform(message)
        except UnresolvedReference as error:
            log.error("%s %s to %s names a message never sent (%s); dropped", message.action,
                      message.id, message.room_id, error)
            await self._drop(message)
            return True
        except MatrixError as error:
            if not error.permanent:
                return await self._failed(message, error, started,
                                          paced=error.retry_after is not None)
            log.error("%s %s to %s refused for good (%s); dropped", message.action, message.id,
                      message.room_id, error)
            await self._drop(message)
            return True
        except WaitingForReference as error:
            return await self._failed(message, error, started, paced=False)
        except Exception as error:
            log.exception("outbox: %s %s to %s failed", message.action, message.id,
                          message.room_id)
            return await self._failed(message, error, started, paced=False)
        self._done(message, event_id)
        return True

    async def _drop(self, message: Queued) -> None:
        self._failing.pop(message.id, None)
        try:
            async with self.db.transaction() as repos:
                await repos.outbox.drop(message.id)
        except Exception:
            log.exception("outbox: row %s could not be dropped; it stays queued", message.id)

    def _done(self, message: Queued, event_id: str) -> None:
        log.debug("outbox: %s sent", message.action, extra={  # done, whatever happens next
            "action": message.action, "row": message.id, "room": message.room_id,
            "sent_event": event_id})
        if self._failing.pop(message.id, None) is not None:
            log.info("outbox: %s %s to %s went through after failing", message.action,
                     message.id, message.room_id)
        self._answered = self._now()
        if message.action not in OPENS_ROOM:  # marked when its outcome was recorded
            self._marks.append((message.id, event_id, self.clock.now()))
            self._schedule_marks()
        self._sent[message.id] = None
        while len(self._sent) > RECENTLY_SENT:
            self._sent.popitem(last=False)
        self.sent_count += 1

    async def _failed(self, message: Queued, error: BaseException, started: float, *,
                      paced: bool) -> bool:
        """Notes a failure (of a try begun at ``started``) and when to try again; past
        ``retry_for`` since the first one, the row is set aside for good (``True``)."""
        failing = self._failing.get(message.id)
        now = self._now()
        if failing is None:
            since = message.failing_since or self.clock.now()
            if message.failing_since is None:
                try:
                    async with self.db.transaction() as repos:
                        since = await repos.outbox.failing(message.id, since)
                except Exception:
                    log.exception("outbox: the failure of row %s could not be noted", message.id)
            failing = self._failing[message.id] = _Failing(since, started, 0, now, paced)
        failing.tries += 1
        failing.paced = paced
        if self.clock.now() - failing.since >= self.retry_for:
            await self._give_up(message, failing, error)
            return True
        wait = backoff(failing.tries, self.first_wait_s, self.longest_wait_s)
        if isinstance(error, MatrixError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        failing.retry_at = now + wait
        log.warning("outbox: %s %s to %s failed (%s); try %d, next in %.0fs", message.action,
                    message.id, message.room_id, error, failing.tries, wait,
                    extra={"row": message.id, "room": message.room_id, "tries": failing.tries})
        return False

    async def _give_up(self, message: Queued, failing: _Failing, error: BaseException) -> None:
        """Sets a row aside for good: logged, its room's outcome told (not opened), reported."""
        hours = (self.clock.now() - failing.since).total_seconds() / 3600
        log.error("outbox: %s %s to %s set aside after %.1f h of failures (%s)", message.action,
                  message.id, message.room_id, hours, error,
                  extra={"event_kind": "outbox_failed", "row": message.id,
                         "room": message.room_id, "action": message.action})
        self._failing.pop(message.id, None)
        if message.action in OPENS_ROOM:  # told as refused: « je n'ai pas pu créer… »
            self._opened[message.id] = None
            try:
                await self._perform(message)
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

    async def _perform(self, message: Queued) -> str:
        """Does what the row asks; returns the event id (empty for an invite). An invite or a
        pin the homeserver forbids posts the message it carries for that, then raises."""
        content = json.loads(message.content)
        if REF_PREFIX in message.content:  # names an earlier message (most do not)
            content = await self._resolve(content)
        refused = content.pop(REFUSED, None) if message.action in ("invite", "pin") else None
        try:
            return await ACTIONS.get(message.action, Outbox._send)(self, message, content)
        except MatrixError as error:
            if refused is not None and error.code == "M_FORBIDDEN":
                await self._tell_refusal(message, refused)
            raise

    async def _send(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.send(message.room_id, content, message.txn_id,
                                         message.event_type)

    async def _send_sized(self, message: Queued, content: dict[str, Any]) -> str:
        """A message too large for one event goes in parts or as a file (``bot.oversize``)."""
        room_id = message.room_id

        async def send(part: dict[str, Any], txn: str) -> str:
            return await self._send(dataclasses.replace(message, txn_id=txn), part)

        async def upload(data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
            return await self.transport.upload(room_id, data, mimetype, filename)

        sized = oversize.Message(room_id, content, message.txn_id, message.event_type,
                                 self.transport.is_encrypted(room_id))
        return await oversize.deliver(sized, send, upload, self.t)

    async def _upload(self, message: Queued, content: dict[str, Any]) -> str:
        data = base64.b64decode(content.pop("data"))
        content.update(await self.transport.upload(message.room_id, data,
                                                   content["info"]["mimetype"], content["body"]))
        return await self._send(message, content)

    async def _invite(self, message: Queued, content: dict[str, Any]) -> str:
        await self.transport.invite(message.room_id, str(content["user_id"]))
        return ""

    async def _state(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.put_state(message.room_id, message.event_type,
                                              message.state_key or "", content)

    async def _leave(self, message: Queued, _content: dict[str, Any]) -> str:
        await self.transport.leave(message.room_id)
        return ""

    async def _pin(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.pin(message.room_id, content["pin"], content["unpin"])

    async def _create_room(self, message: Queued, content: dict[str, Any]) -> str:
        room = content["room"]
        return await self._open(message, content[OUTCOME], lambda: self.transport.create_room(
            name=room["name"], topic=room["topic"], space=room["space"],
            moderators=room["user_ids"]))

    async def _direct_room(self, message: Queued, content: dict[str, Any]) -> str:
        async def direct() -> NewRoom:
            return NewRoom(await self.transport.direct_room(str(content["user_id"])))
        return await self._open(message, content[OUTCOME], direct)

    async def _open(self, message: Queued, outcome: dict[str, Any],
                    create: Callable[[], Awaitable[NewRoom]]) -> str:
        """Opens a room (no transaction is open meanwhile), then records its outcome and marks
        the row sent in one transaction. A room is opened once per row in this process: when
        recording fails, the retry records the same room. A crash before the record opens it
        again at the next start (the first one stays empty)."""
        if message.id not in self._opened:
            try:
                self._opened[message.id] = await create()
            except MatrixError as error:
                if not error.permanent:
                    raise
                log.warning("%s %s refused for good (%s)", message.action, message.id, error)
                self._opened[message.id] = None
        room = self._opened[message.id]
        if self.on_room_opened is None:
            raise RuntimeError("no one records the outcome of the rooms the bot opens")
        async with self.db.transaction() as repos:
            queued = await self.on_room_opened(repos, message, outcome, room)
            await repos.outbox.mark_sent(message.id, room.room_id if room else "",
                                         self.clock.now())
        del self._opened[message.id]
        for row in queued:
            self.push(row)
        return room.room_id if room else ""

    async def _tell_refusal(self, message: Queued, refused: dict[str, Any]) -> None:
        """Queues the message an invite or a pin carries for when it is forbidden: once, by a
        transaction id derived from the row's."""
        async with self.db.transaction() as repos:
            row = await repos.outbox.add(txn_id=txn_id("refused", message.txn_id),
                                         room_id=str(refused["room_id"]),
                                         content=refused["content"], created_at=self.clock.now())
        if row is not None:
            self.push(Queued.of(row))

    async def _resolve(self, content: Any) -> Any:
        """Puts the event ids of the messages named by ``ref`` placeholders in their place."""
        if isinstance(content, dict):
            return {key: await self._resolve(value) for key, value in content.items()}
        if isinstance(content, list):
            return [await self._resolve(value) for value in content]
        if isinstance(content, str) and content.startswith(REF_PREFIX):
            await self.write_marks()  # the message named may have just been sent
            async with self.db.transaction() as repos:
                event_id = await repos.outbox.reference(content[len(REF_PREFIX):])
            if event_id is None:
                raise WaitingForReference(content)
            if not event_id:
                raise UnresolvedReference(content)
            return event_id
        return content


Action = Callable[[Outbox, Queued, dict[str, Any]], Awaitable[str]]
ACTIONS: dict[str, Action] = {
    "send": Outbox._send_sized, "upload": Outbox._upload, "invite": Outbox._invite,
    "state": Outbox._state, "leave": Outbox._leave, "pin": Outbox._pin,
    "create_room": Outbox._create_room, "direct_room": Outbox._direct_room}
"""What each row's ``action`` does (``bot.effects`` makes the rows)."""
