"""Reading a sync response into a ``Batch``: gaps in limited timelines backfilled from
``/messages``, our own events, history and events older than the catch-up window set aside,
commands, arrivals, reactions, redactions, native poll responses and posted files sorted out; undecryptable
events kept until their room key arrives."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from nio import (
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessageText,
    SyncResponse,
)

from bot.attachments import FILE_EVENTS
from bot.batch import Arrival, Batch, Command, KnownRoom, event_time
from bot.clock import Clock
from bot.matrix import MatrixTransport
from bot.poll_responses import responses_of
from bot.undecryptable import UndecryptableNotices
from commands.dispatch import command_text
from commands.events import Reaction, ReadAnswer, Redaction, ThreadMessage
from commands.i18n import Translator
from commands.mentions import body_with_user_ids
from commands.threads import thread_root

log = logging.getLogger("bot.app")  # the bot's records, as the log names them
MAX_BACKFILL_PAGES = 50
MAX_UNDECRYPTED = 500


class BatchReader:
    """Reads sync responses; ``undecrypted``: the events waiting for their room key (event id
    -> room id, event), whose senders ``notices`` tells if the key does not come soon."""

    def __init__(self, transport: MatrixTransport, clock: Clock, catch_up: timedelta,
                 prefix: Callable[[], str], club_rooms: Mapping[str, str], t: Translator,
                 notice_after: timedelta, answer_events: Mapping[str, ReadAnswer]) -> None:
        self.transport = transport
        self.answer_events = answer_events  # native poll answers: event type → reader
        self.clock = clock
        self.catch_up = catch_up
        self.prefix = prefix
        self.club_rooms = club_rooms
        # whether a room not known to be the club's may be a configured room being resolved
        self.maybe_club: Callable[[str], bool] = lambda _room_id: False
        self.undecrypted: dict[str, tuple[str, MegolmEvent]] = {}
        self.notices = UndecryptableNotices(transport, clock, t, notice_after,
                                            lambda event_id: event_id in self.undecrypted)

    def forget(self, room_id: str) -> None:
        """The bot left ``room_id``: its events waiting for a key are dropped."""
        for event_id in [e for e, (room, _) in self.undecrypted.items() if room == room_id]:
            del self.undecrypted[event_id]

    async def read(self, known: dict[str, KnownRoom], response: SyncResponse) -> Batch:
        """What ``response`` asks of the bot, the rooms ``known`` as they were before it."""
        batch = Batch()
        cutoff = self.clock.now() - self.catch_up
        for room_id, events in self._late_decryptions().items():
            room = known.get(room_id)
            if room is not None:
                self._classify(batch, room_id, events, max(room.joined_at, cutoff))
        for room_id, info in response.rooms.join.items():
            await self._read_room(batch, room_id, info, known.get(room_id), cutoff)
        if batch.redactions:
            await self._weigh_redactions(batch)
        return batch

    async def _read_room(self, batch: Batch, room_id: str, info: Any, room: KnownRoom | None,
                         cutoff: datetime) -> None:
        """One joined room's timeline, its gap backfilled."""
        events = list(info.timeline.events)
        joined = self._new_join(room, events)
        if info.timeline.limited and info.timeline.prev_batch:
            stop_at = room.last_event_id if room else None
            since = max(joined or (room.joined_at if room else cutoff), cutoff)
            events = await self._backfill(room_id, info.timeline.prev_batch, stop_at,
                                          since) + events
            joined = joined or self._new_join(room, events)
        if room is None or joined is not None:
            joined_at = batch.joined[room_id] = joined or self.clock.now()
        else:
            joined_at = room.joined_at
        self._classify(batch, room_id, events, max(joined_at, cutoff))
        self.transport.threads.seen(room_id, events, self.transport.user_id)
        if events:
            batch.last_events[room_id] = events[-1].event_id

    def _late_decryptions(self) -> dict[str, list[Any]]:
        """Events that could not be decrypted earlier and can now (their room key arrived)."""
        late: dict[str, list[Any]] = {}
        for event_id, (room_id, event) in list(self.undecrypted.items()):
            decrypted = self.transport.decrypt(event)
            if decrypted is not None:
                del self.undecrypted[event_id]
                late.setdefault(room_id, []).append(decrypted)
        return late

    def _new_join(self, room: KnownRoom | None, events: list[Any]) -> datetime | None:
        """When the bot last joined the room in ``events``, unless that is the join known."""
        joined = None
        for event in events:
            if (isinstance(event, RoomMemberEvent) and event.state_key == self.transport.user_id
                    and event.membership == "join" and event.prev_membership != "join"):
                joined = event_time(event)
        if joined is None or (room is not None and joined <= room.joined_at):
            return None
        return joined

    async def _weigh_redactions(self, batch: Batch) -> None:
        """Notes which redactions come from someone allowed to redact others' events in their
        room (read from the room's current state), and drops the commands of the batch, and
        the events still waiting for their key, that a redaction takes back."""
        batch.redactions = [replace(r, may_redact=self.transport.may_redact(r.room_id, r.sender))
                            for r in batch.redactions]
        taken = {redaction.redacts: redaction for redaction in batch.redactions}
        batch.commands = [c for c in batch.commands if not (
            c.event_id in taken and taken[c.event_id].takes_back(c.room_id, c.sender))]
        for event_id, redaction in taken.items():
            waiting = self.undecrypted.get(event_id)
            if waiting is not None and redaction.takes_back(waiting[0], waiting[1].sender):
                del self.undecrypted[event_id]

    async def _backfill(self, room_id: str, start: str, stop_at: str | None,
                        cutoff: datetime) -> list[Any]:
        """The events a limited timeline skipped, oldest first."""
        older: list[Any] = []
        token: str | None = start
        for _ in range(MAX_BACKFILL_PAGES):
            if token is None:
                break
            page = await self.transport.history(room_id, token)
            for event in page.events:
                if event.event_id == stop_at or event_time(event) < cutoff:
                    return list(reversed(older))
                older.append(event)
            if not page.events or page.end == token:
                break
            token = page.end
        log.info("backfilled %d events in %s", len(older), room_id)
        return list(reversed(older))

    def _classify(self, batch: Batch, room_id: str, events: list[Any], since: datetime) -> None:
        """Sorts the room's events since ``since`` into ``batch``; the bot's own are noted by
        their transaction id."""
        me = self.transport.user_id
        for event in events:
            if event.sender == me:
                txn = event.source.get("unsigned", {}).get("transaction_id")
                if isinstance(txn, str):
                    batch.own[txn] = event.event_id
            elif event_time(event) >= since:
                self._classify_one(batch, room_id, event)

    def _classify_one(self, batch: Batch, room_id: str, event: Any) -> None:
        """One event sorted into ``batch``. A room event (not a command: the rate weighs its
        time apart) is dated by the homeserver, at the latest now: another homeserver may date
        its users' events years ahead (a comment « latest » for ever, participation counted
        in a year to come)."""
        at = event_time(event)
        if isinstance(event, RoomMessageText):
            body = body_with_user_ids(event.body, event.formatted_body)
            root = thread_root(event.source.get("content", {}))
            if command_text(body, self.prefix()) is not None:
                batch.commands.append(Command(event.event_id, room_id, event.sender, body, at,
                                              root))
            elif root is not None:  # a message in a thread (an edit relates by m.replace)
                batch.thread_messages.append(ThreadMessage(
                    event.event_id, room_id, event.sender, root, event.body, self._until_now(at)))
        elif isinstance(event, RoomMemberEvent):
            if event.membership == "join" and event.prev_membership != "join":
                self._arrival(batch, Arrival(room_id, event.state_key))
        elif isinstance(event, MegolmEvent):
            self._remember_undecrypted(room_id, event)
        elif isinstance(event, ReactionEvent):
            batch.reactions.append(Reaction(event.event_id, room_id, event.sender,
                                            event.reacts_to, event.key, self._until_now(at)))
        elif isinstance(event, RedactionEvent):
            batch.redactions.append(Redaction(event.event_id, room_id, event.sender,
                                              event.redacts, self._until_now(at)))
        elif isinstance(event, FILE_EVENTS):  # a sign-in sheet, maybe (``!rencontre feuille``)
            self.transport.files.seen(room_id, event)
        else:
            batch.poll_responses += [replace(response, at=self._until_now(response.at))
                                     for response in responses_of(room_id, [event],
                                                                  self.answer_events)]

    def _until_now(self, at: datetime) -> datetime:
        return min(at, self.clock.now())

    def _arrival(self, batch: Batch, arrival: Arrival) -> None:
        if arrival.room_id in self.club_rooms:
            batch.arrivals.append(arrival)
        elif self.maybe_club(arrival.room_id):
            batch.maybe_arrivals.append(arrival)

    def _remember_undecrypted(self, room_id: str, event: MegolmEvent) -> None:
        """Keeps an event whose room key has not arrived yet, to retry after the next syncs;
        its sender is told if the key does not come soon."""
        log.warning("cannot decrypt %s in %s yet; waiting for its key", event.event_id, room_id)
        self.undecrypted[event.event_id] = (room_id, event)
        self.notices.watch(event.event_id, room_id, event.sender,
                           thread_root(event.source.get("content", {})))
        while len(self.undecrypted) > MAX_UNDECRYPTED:
            self.undecrypted.pop(next(iter(self.undecrypted)))
