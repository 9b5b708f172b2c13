"""Messages the bot cannot decrypt: their sender is told, in the room (encrypted like the room),
what to check, once per sender while the bot runs, when a message's room key has not come
within ``[matrix] undecryptable_notice_seconds``. The message itself is still handled if its key
arrives later (``Bot._late_decryptions``).

Against a flood of unreadable events (anyone can send some, from many accounts): at most one
notice per room in each such delay (the others wait their turn), at most ``PER_SENDER`` events
watched per sender, and each notice sent on its own, so that a slow room holds up no other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.matrix import MatrixTransport
from bot.matrix_api import MatrixError
from bot.render import message_content
from commands.effects import Reply, txn_id
from commands.i18n import Translator

log = logging.getLogger(__name__)

SEND_S = 30.0  # one notice's send
PER_SENDER = 20  # events of one sender watched at once
TRIES = 3  # a notice the homeserver did not take (not a refusal) is tried again, this often at most
RETRY_S = 5.0  # the wait before its second try (then twice as long)
IDLE_S = 60.0  # the longest sleep with nothing due (a new event wakes the loop)


@dataclass(frozen=True)
class Waiting:
    """An event waiting for its room key, and when its sender is due to be told."""

    room_id: str
    sender: str
    due: datetime
    thread: str | None = None  # the thread the event was sent in (told there)
    tries: int = 0  # the notice's tries that failed


class UndecryptableNotices:
    """Tells senders their messages cannot be read; ``waiting(event_id)`` says whether an
    event still waits for its key (the bot's own record)."""

    def __init__(self, transport: MatrixTransport, clock: Clock, t: Translator, delay: timedelta,
                 waiting: Callable[[str], bool]) -> None:
        self.transport = transport
        self.clock = clock
        self.t = t
        self.delay = delay
        self.waiting = waiting
        self.told: set[str] = set()  # senders told since the bot started
        self._pending: dict[str, Waiting] = {}
        self._added = asyncio.Event()
        self._room_free: dict[str, datetime] = {}  # when a room may get its next notice
        self._telling: dict[str, asyncio.Task[None]] = {}  # sender -> its notice being sent

    def watch(self, event_id: str, room_id: str, sender: str, thread: str | None = None) -> None:
        """An event the bot cannot decrypt yet (sent in the thread of ``thread``, if given: its
        relation is not encrypted): its sender is told if it still cannot after the delay (and
        was not told before), in that thread."""
        if (not self.delay or sender in self.told or event_id in self._pending
                or sum(w.sender == sender for w in self._pending.values()) >= PER_SENDER):
            return
        self._pending[event_id] = Waiting(room_id, sender, self.clock.now() + self.delay, thread)
        self._added.set()

    async def tell_due(self, wait: bool = True) -> None:
        """Tells the senders whose messages are still unreadable after the delay, each notice
        sent on its own (and waited for, unless ``wait`` is false)."""
        now = self.clock.now()
        started = []
        for event_id, waiting in list(self._pending.items()):
            if not self.waiting(event_id) or waiting.sender in self.told:
                del self._pending[event_id]
            elif self._due(waiting) <= now and waiting.sender not in self._telling:
                del self._pending[event_id]
                self._room_free[waiting.room_id] = now + self.delay
                started.append(self._start(event_id, waiting))
        if wait:
            await asyncio.gather(*started)

    def _due(self, waiting: Waiting) -> datetime:
        """When its sender may be told: after the delay, and the room's previous notice's."""
        free = self._room_free.get(waiting.room_id)
        return waiting.due if free is None else max(waiting.due, free)

    def _start(self, event_id: str, waiting: Waiting) -> asyncio.Task[None]:
        task = asyncio.create_task(self._tell(event_id, waiting), name=f"notice {event_id}")
        self._telling[waiting.sender] = task

        def done(_: asyncio.Task[None]) -> None:
            self._telling.pop(waiting.sender, None)
            self._added.set()  # its other events: dropped if told, due again if not

        task.add_done_callback(done)
        return task

    async def _tell(self, event_id: str, waiting: Waiting) -> None:
        content = message_content(Reply(self.t("encryption.undecryptable")),
                                  in_reply_to=event_id, reply_sender=waiting.sender,
                                  thread=waiting.thread)
        try:
            await asyncio.wait_for(self.transport.send(
                waiting.room_id, content, txn_id("undecryptable", event_id)), SEND_S)
        except (MatrixError, TimeoutError) as error:
            again = waiting.tries + 1 < TRIES and not getattr(error, "permanent", False)
            log.warning("could not tell %s that their message is unreadable (%s)%s",
                        waiting.sender, error, "; trying again" if again else "")
            self._room_free.pop(waiting.room_id, None)  # no notice went: the room is free
            if again:  # the transport asks once: trying again is the caller's
                wait = timedelta(seconds=RETRY_S * 2 ** waiting.tries)
                self._pending[event_id] = replace(waiting, due=self.clock.now() + wait,
                                                  tries=waiting.tries + 1)
            return
        self.told.add(waiting.sender)
        log.info("told %s that their message %s cannot be decrypted", waiting.sender, event_id,
                 extra={"event_kind": "undecryptable_notice", "room": waiting.room_id,
                        "event": event_id})

    async def run(self) -> None:
        """Tells senders as their delays end, until cancelled."""
        try:
            await self._run()
        finally:
            for task in list(self._telling.values()):
                task.cancel()

    async def _run(self) -> None:
        while True:
            floor = 0.0
            try:
                await self.tell_due(wait=False)
            except Exception:  # never let the notices stop for good
                log.exception("undecryptable notices failed; trying again in a second")
                floor = 1.0
            self._added.clear()
            dues = [self._due(w) for w in self._pending.values() if w.sender not in self._telling]
            wait = (min(dues) - self.clock.now()).total_seconds() if dues else IDLE_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._added.wait(), max(floor, min(wait, IDLE_S)))
