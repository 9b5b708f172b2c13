"""The polls' scheduled work (polls of every kind, proposals too): each poll closed at its
deadline, those who have not voted reminded before it; at start, the answers given while the
bot was down counted and the poll messages that do not show their latest results edited."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from commands.context import Club
from commands.effects import Effect, effect_txn
from commands.jobs import Item, Job, JobRun
from commands.polls import service
from commands.polls.handlers import POLL_KIND

if TYPE_CHECKING:
    from storage.models import Poll
    from storage.repositories import Repositories

log = logging.getLogger(__name__)


async def _deadlines(repos: Repositories, _club: Club,
                     _now: datetime) -> Sequence[tuple[Item, datetime]]:
    return [(p.id, p.closes_at) for p in await repos.polls.with_deadline()
            if p.closes_at is not None]


async def _close(job: JobRun, item: Item) -> Sequence[Effect]:
    poll = await _open_poll(job.repos, item)
    if poll is None or poll.closes_at is None or poll.closes_at > job.now:
        return ()
    log.info("poll %s closed at its deadline", item, extra={"poll": item})
    return await service.close(job.repos, poll, job.club, job.t, job.now)


async def _open_poll(repos: Repositories, item: Item) -> Poll | None:
    """The poll, while it is open."""
    poll = await repos.polls.get(int(item))
    return poll if poll is not None and poll.status == "open" else None


async def _reminders(repos: Repositories, club: Club,
                     _now: datetime) -> Sequence[tuple[Item, datetime]]:
    before = club.poll_reminder
    if not before:
        return []
    return [(p.id, _outside_quiet_hours(p.closes_at - before, p.closes_at, club))
            for p in await repos.polls.with_deadline()
            if p.closes_at is not None and p.reminded_at is None
            and p.closes_at - before > p.created_at]


def _outside_quiet_hours(due: datetime, deadline: datetime, club: Club) -> datetime:
    """After the quiet hours, as the club's other automatic reminders, unless that is too late."""
    moved = club.reminders.after_quiet_hours(due, club.tz)
    return moved if moved < deadline else due


async def _room_to_remind(repos: Repositories, item: Item) -> str | None:
    poll = await _open_poll(repos, item)
    return poll.room_id if poll is not None and poll.reminded_at is None else None


async def _remind(job: JobRun, item: Item) -> Sequence[Effect]:
    poll = await _open_poll(job.repos, item)
    if poll is None or poll.reminded_at is not None:
        return ()
    return await service.remind(job.repos, poll, job.members, job.club, job.t, job.now)


async def _refresh_stale(job: JobRun) -> Sequence[Effect]:
    """The poll messages that do not show their latest results (a vote's follow-up lost in a
    stop), edited."""
    return await service.stale_edits(job.repos, job.club, job.t)


async def _native_polls(repos: Repositories) -> Sequence[tuple[str, str]]:
    """The native poll events of the open polls, whose answers are read again at start."""
    positions: dict[int, list[int]] = {}
    for poll_id, _room, position in await repos.polls.open_slots():
        positions.setdefault(poll_id, []).append(position)
    keys: list[tuple[str, str]] = []  # (room, the native poll's transaction)
    for poll in await repos.polls.open_polls():
        if service.per_option(poll):
            keys += [(poll.room_id, effect_txn(service.slot_key(poll.id, position)))
                     for position in positions.get(poll.id, [])]
        else:
            keys.append((poll.room_id, effect_txn(service.choice_key(poll.id))))
    sent = await repos.outbox.event_ids_of([txn for _room, txn in keys])
    return [(room_id, sent[txn]) for room_id, txn in keys if txn in sent]


DEADLINES = Job(f"{POLL_KIND}-close", pending=_deadlines, run=_close)
REMINDERS = Job(f"{POLL_KIND}-remind", pending=_reminders, run=_remind, room=_room_to_remind)
JOBS = (DEADLINES, REMINDERS)
AT_START = (_refresh_stale,)
ANSWERED = (_native_polls,)
