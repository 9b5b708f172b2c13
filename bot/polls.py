"""Polls in the runtime: deadlines and reminders as scheduler jobs, and the recount of native
votes from the homeserver's relations at start (votes cast while the bot was down)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.clock import Clock
from bot.effects import queue_effects
from bot.matrix import MatrixError, MatrixTransport
from bot.outbox import Outbox
from commands.context import Club
from commands.effects import effect_txn
from commands.events import PollResponse
from commands.i18n import Translator
from commands.polls import native, service
from storage.db import Database

log = logging.getLogger(__name__)


class PollDeadlines:
    """Closes each poll at its deadline (``poll-close:<id>``)."""

    kind = "poll-close"

    def __init__(self, db: Database, outbox: Outbox, clock: Clock, club: Callable[[], Club]) -> None:
        self.db, self.outbox, self.clock, self.club = db, outbox, clock, club

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        async with self.db.transaction() as repos:
            return [(p.id, p.closes_at) for p in await repos.polls.with_deadline()
                    if p.closes_at is not None]

    async def fire(self, item_id: int) -> None:
        now = self.clock.now()
        club = self.club()
        async with self.db.transaction() as repos:
            poll = await repos.polls.get(item_id)
            if poll is None or poll.status != "open" or poll.closes_at is None or poll.closes_at > now:
                return
            effects = await service.close(repos, poll, club, Translator(club.language), now)
            queued = await queue_effects(repos, effects, f"poll-close-{item_id}", now)
        for message in queued:
            self.outbox.push(message)
        log.info("poll %s closed at its deadline", item_id, extra={"poll": item_id})


class PollReminders:
    """Reminds those who have not voted, some time before the deadline (``poll-remind:<id>``)."""

    kind = "poll-remind"

    def __init__(self, db: Database, outbox: Outbox, clock: Clock, club: Callable[[], Club],
                 transport: MatrixTransport) -> None:
        self.db, self.outbox, self.clock, self.club = db, outbox, clock, club
        self.transport = transport

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        before = self.club().poll_reminder
        if not before:
            return []
        club = self.club()
        async with self.db.transaction() as repos:
            return [(p.id, _outside_quiet_hours(p.closes_at - before, p.closes_at, club))
                    for p in await repos.polls.with_deadline()
                    if p.closes_at is not None and p.reminded_at is None
                    and p.closes_at - before > p.created_at]

    async def fire(self, item_id: int) -> None:
        now = self.clock.now()
        club = self.club()
        async with self.db.transaction() as repos:
            poll = await repos.polls.get(item_id)
            if poll is None or poll.status != "open" or poll.reminded_at is not None:
                return
            room_id = poll.room_id
        members = await self.transport.joined_members(room_id)
        async with self.db.transaction() as repos:
            poll = await repos.polls.get(item_id)
            if poll is None or poll.status != "open" or poll.reminded_at is not None:
                return
            effects = await service.remind(repos, poll, members, self.transport.user_id, club,
                                           Translator(club.language), now)
            queued = await queue_effects(repos, effects, f"poll-remind-{item_id}", now)
        for message in queued:
            self.outbox.push(message)


def _outside_quiet_hours(due: datetime, deadline: datetime, club: Club) -> datetime:
    """After the quiet hours, as the club's other automatic reminders, unless that is too late."""
    moved = club.reminders.after_quiet_hours(due, club.tz)
    return moved if moved < deadline else due


def responses_of(room_id: str, events: Sequence[Any]) -> list[PollResponse]:
    """The poll responses among nio events (unknown to nio, so ``UnknownEvent``)."""
    found = []
    for event in events:
        if getattr(event, "type", None) in native.RESPONSE_TYPES:
            source = event.source
            response = native.read_response(
                source["event_id"], room_id, source["sender"],
                datetime_of(source["origin_server_ts"]), source.get("content", {}))
            if response is not None:
                found.append(response)
    return found


def datetime_of(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


async def refresh_stale_polls(db: Database, outbox: Outbox, club: Club, now: datetime) -> int:
    """Edits the messages of open polls that do not show their latest results (a vote's
    follow-up lost in a stop); returns how many."""
    async with db.transaction() as repos:
        effects = await service.stale_edits(repos, club, Translator(club.language))
        queued = await queue_effects(repos, effects, f"stale-{now.isoformat()}", now)
    for message in queued:
        outbox.push(message)
    return len(effects)


async def recount(db: Database, transport: MatrixTransport, outbox: Outbox, club: Club,
                  now: datetime) -> int:
    """Reads every response to the open polls from the homeserver (``/relations``), so votes
    cast while the bot was down count; returns how many responses were read."""
    async with db.transaction() as repos:
        targets = []
        for poll in await repos.polls.open_polls():
            for slot in await repos.polls.slots(poll.id):
                event_id = await repos.outbox.event_id_of(
                    effect_txn(service.slot_key(poll.id, slot.position)))
                if event_id:
                    targets.append((poll.room_id, event_id))
    responses: list[PollResponse] = []
    for room_id, event_id in targets:
        try:
            events = await transport.relations(room_id, event_id)
        except MatrixError as error:
            log.warning("cannot recount the votes of %s in %s (%s)", event_id, room_id, error)
            continue
        responses += responses_of(room_id, events)
    if responses:
        responses.sort(key=lambda r: r.at)
        async with db.transaction() as repos:
            effects = await service.record_native(repos, responses, club, Translator(club.language))
            queued = await queue_effects(repos, effects, f"recount-{now.isoformat()}", now)
        for message in queued:
            outbox.push(message)
    log.info("recounted %d poll responses of %d native polls", len(responses), len(targets))
    return len(responses)
