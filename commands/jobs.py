"""Scheduled work a capability declares (``Capability(jobs=…)``): a kind, how its due items are
read from the database, and what runs when one is due. The runtime derives its timers from
these declarations (``bot/jobs.py``) and rebuilds them at start: the database stays the only
record of what is due, and a run happens in its own transaction, never waiting on the
homeserver inside it.

A job is declared next to its capability's handlers::

    CLOSE = Job("poll-close", pending=deadlines, run=close)
    CAPABILITY = Capability("polls", commands=(...), jobs=(CLOSE,))

``pending(repos, club, now)`` returns ``(item, due)`` pairs (an item is a row id, or a room id);
``run(job, item)`` re-reads its item in ``job.repos``, does nothing if it is no longer due, and
returns the effects to queue in the same commit. A command that changes a job's rows names its
kind in ``Reply(reschedule=(kind,))``: the runtime re-reads ``pending`` after the commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from commands.ports import MatrixPort
    from storage.repositories import Repositories

Item = int | str  # a row's id, or a room's
ARRIVALS = "welcomes"  # the job that greets the arrivals the sync records (rebuilt after each)


@dataclass
class JobRun:
    """What one run of a job sees: its transaction's repositories, the club, the time."""

    repos: Repositories
    club: Club
    t: Translator
    now: datetime
    # the members of the room ``Job.room`` named (asked of the homeserver before the
    # transaction, the bot left out); empty for jobs that name none
    members: Sequence[str] = ()
    # what the bot knows of its rooms from its sync (no request: ``MatrixPort``); ``None``
    # when the runtime gives none
    matrix: MatrixPort | None = None
    # the key of the effects' outbox rows (a replay after a crash queues nothing twice):
    # ``<kind>-<item>`` unless the run sets another
    key: str = ""


Pending = Callable[["Repositories", "Club", datetime], Awaitable[Sequence[tuple[Item, datetime]]]]
Run = Callable[[JobRun, Item], Awaitable[Sequence["Effect"]]]
Room = Callable[["Repositories", Item], Awaitable[str | None]]


def _one_minute(_club: Club) -> timedelta:
    return timedelta(minutes=1)


@dataclass(frozen=True)
class Job:
    """A kind of scheduled work: its due items, and what runs when one is due."""

    kind: str
    pending: Pending
    run: Run
    # ``False``: one timer per item (a poll's deadline). ``True``: one timer at the earliest
    # due time, whose firing runs every item due then, each in its own transaction (thousands
    # of reminders cost one timer); ``pending`` may then return only the first items by time
    timer: bool = False
    # the room whose members the run needs (``JobRun.members``); ``None`` if it needs none
    room: Room | None = None
    # (``timer``) an item whose run failed waits this long before it is tried again
    retry: Callable[[Club], timedelta] = field(default=_one_minute)


# Run once at each start, after the catch-up: returns the effects to queue (``JobRun.key`` is
# the start's).
AtStart = Callable[[JobRun], Awaitable[Sequence["Effect"]]]
# At each start, the events whose answers (native poll responses relating to them) are read
# again from the homeserver, ``(room id, event id)``: answers given while the bot was down go to
# the capabilities' ``poll_answers`` like the sync's.
Answered = Callable[["Repositories"], Awaitable[Sequence[tuple[str, str]]]]
