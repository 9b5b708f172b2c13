"""The bot: logs in, joins the club's rooms, syncs, queues commands durably, sends replies.

The sync token is saved in the same transaction as the commands of its batch, so a crash neither
loses nor repeats one. Gaps in limited timelines are backfilled from ``/messages``. While another
program holds the database's write lock, batches wait in memory and the sync goes on.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from nio import (
    InviteMemberEvent,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessageText,
    SyncResponse,
)

from bot.clock import Clock, SystemClock
from bot.config import LimitSettings, ReminderSettings, Settings
from bot.cross_signing import cross_sign
from bot.dispatcher import Dispatcher, Handled, Undone
from bot.effects import queue_effects
from bot.matrix import MatrixError, RoomUnavailable, Transport
from bot.outbox import Outbox, Queued, txn_id
from bot.polls import (
    PollDeadlines,
    PollReminders,
    recount,
    refresh_stale_polls,
    responses_of,
)
from bot.profile import Profile
from bot.reminders import ReminderEngine
from bot.render import message_content
from bot.retention import RetentionPurge
from bot.scheduled import ScheduledMessages
from bot.scheduler import Scheduler
from bot.standing import Standings
from bot.undecryptable import UndecryptableNotices
from bot.welcomes import Welcomes
from commands import build_registry
from commands.context import Club, Reply
from commands.dispatch import command_text
from commands.errors import StorageBusy, StorageUnavailable
from commands.event_kinds import EventKinds
from commands.events import PollResponse, Reaction, Redaction, RoomEvents
from commands.i18n import Translator
from commands.limits import Limits
from commands.mentions import body_with_user_ids
from commands.registry import Registry
from commands.rhythm import ReminderRules
from commands.roles import Role
from commands.threads import thread_root
from storage.db import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)
SYNC_TOKEN = "sync_token"
MAX_BACKFILL_PAGES = 50
MAX_UNDECRYPTED = 500
REPLY_GRACE_S = 1.0
# A batch with nothing to save leaves its token in memory; it is saved with the next batch
# that has something, at stop, or after this long. Losing it (kill -9) only replays batches
# that held nothing to act on.
TOKEN_SAVE_EVERY_S = 300.0
# At stop, how long batches kept in memory (another program holding the database's lock) wait
# for it before being left to the next start (which reads them again from the saved token).
STOP_LOCK_WAIT_S = 10.0
# Batches kept in memory are saved this many at a time once the lock frees, each group in a
# transaction of its own (a 10 s lock under a stream of pings leaves ~120 batches: saved at once,
# they stopped the event loop 66 ms; ``bench.faults``).
SAVED_TOGETHER = 20


def reminder_rules(settings: ReminderSettings) -> ReminderRules:
    """The configured rhythm, for the handlers."""
    quiet = settings.quiet_hours.split("-") if settings.quiet_hours else []
    start, end = (time.fromisoformat(part) for part in quiet) if quiet else (None, None)
    return ReminderRules(meeting_days=settings.meeting_days_before,
                         meeting_hours=settings.meeting_hours_before,
                         agenda_call_days=settings.agenda_call_days_before,
                         minutes_days=settings.minutes_days_after,
                         minutes_repeat_days=settings.minutes_repeat_days,
                         progress_weeks=settings.progress_weeks_after,
                         quiet_start=start, quiet_end=end)


def limits_of(settings: LimitSettings) -> Limits:
    """The configured limits, for the handlers and the dispatcher."""
    return Limits(groups_per_day=settings.groups_per_day,
                  suggestions_per_meeting=settings.suggestions_per_meeting,
                  remontees_per_day=settings.remontees_per_day,
                  initiatives_per_day=settings.initiatives_per_day,
                  commands_per_minute=settings.commands_per_minute)


def bot_version() -> str:
    try:
        return version("cct-bot")
    except PackageNotFoundError:
        return "dev"


def _ts(event: Any) -> datetime:
    return datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)


@dataclass
class KnownRoom:
    """What the bot remembers of a room it is in (mirrors the ``joined_rooms`` table): when it
    joined it last (older events are history) and the last timeline event seen there."""

    joined_at: datetime
    last_event_id: str | None = None


@dataclass
class Command:
    event_id: str
    room_id: str
    sender: str
    body: str
    sent_at: datetime
    thread_root: str | None = None  # the thread it was sent in, if any


@dataclass
class _Waiting:
    """A command waiting for another program's lock on the database: since when (loop time),
    and whether its sender was told."""

    command: Command
    since: float
    told: bool = False


@dataclass
class Arrival:
    room_id: str
    user_id: str


@dataclass
class Batch:
    """What one sync response asks of the bot, saved in one transaction."""

    commands: list[Command] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    poll_responses: list[PollResponse] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    redactions: list[Redaction] = field(default_factory=list)
    queued: list[Queued] = field(default_factory=list)  # effects: sent after the commit
    # commands over their sender's rate, by event id: the notice to answer, or None (dropped)
    limited: dict[str, Reply | None] = field(default_factory=dict)
    newcomers: int = 0  # arrivals recorded for the first time: a welcome to schedule
    last_events: dict[str, str] = field(default_factory=dict)
    joined: dict[str, datetime] = field(default_factory=dict)  # rooms (re)joined: since when
    left: list[str] = field(default_factory=list)  # rooms left, or kicked or banned from
    own: dict[str, str] = field(default_factory=dict)  # the bot's events: txn id -> event id

    def is_empty(self) -> bool:
        """Nothing to save but the sync token and the rooms' last events."""
        return not self.commands and self.is_repeatable()

    def is_repeatable(self) -> bool:
        """Nothing but commands (and chat): each command is known by its event id (the inbox),
        so reading the batch again from an earlier sync token would repeat nothing."""
        return not (self.arrivals or self.poll_responses or self.reactions or self.redactions
                    or self.joined or self.left)

    def then(self, later: Batch) -> Batch:
        """This batch followed by ``later``, as one to save (batches kept in memory while
        another program holds the database's lock are saved together)."""
        joined = {room: at for room, at in self.joined.items() if room not in later.left}
        return Batch(
            commands=self.commands + later.commands, arrivals=self.arrivals + later.arrivals,
            poll_responses=self.poll_responses + later.poll_responses,
            reactions=self.reactions + later.reactions,
            redactions=self.redactions + later.redactions,
            limited={**self.limited, **later.limited},
            last_events={**self.last_events, **later.last_events},
            joined={**joined, **later.joined},
            left=self.left + [room for room in later.left if room not in self.left])


async def _write_position(repos: Repositories, token: str,
                          last_events: Mapping[str, str]) -> None:
    """The sync position: the token and the last event seen of each room named (the bot's
    own events synced before it are marked sent first: ``Bot._write_own_marks``)."""
    for room_id, event_id in last_events.items():
        await repos.rooms.set_last_event(room_id, event_id)
    await repos.state.set(SYNC_TOKEN, token)


def settle_memory() -> None:
    """Once started: what the start made (modules, libraries, the schedule) is moved out of the
    garbage collector's way, so that a full collection during a command scans only what the
    bot made since (measured in ``bench.scale``: a 110 ms pause became 10–15 ms)."""
    gc.collect()
    gc.freeze()


class Bot:
    """The whole runtime, started with ``start()`` and stopped with ``stop()``."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 registry: Registry | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.transport = Transport(settings.matrix)
        self.outbox = Outbox(self.db, self.transport, self.clock,
                             retry_for=timedelta(hours=settings.matrix.send_retry_hours))
        club = settings.club
        self.club = Club(name=club.name, prefix=club.prefix, language=club.language,
                         timezone=club.timezone, charter=club.charter,
                         welcome_message=club.welcome_message, version=bot_version(),
                         coordinators=club.coordinators,
                         meeting_duration=timedelta(minutes=settings.meetings.duration_minutes),
                         poll_reminder=timedelta(hours=settings.meetings.poll_reminder_hours),
                         reminders=reminder_rules(settings.reminders),
                         agenda_deadline=timedelta(
                             hours=settings.meetings.agenda_deadline_hours),
                         entrance=settings.rooms.main or "",
                         catch_up=timedelta(minutes=settings.matrix.catch_up_minutes),
                         limits=limits_of(settings.limits),
                         event_kinds=EventKinds(settings.events.kinds))
        self.t = Translator(club.language)
        self.standings = Standings(self.transport, club, lambda: self.club_rooms,
                                   lambda: self.main_room_id)
        self.dispatcher = Dispatcher(registry or build_registry(), self.db, self.outbox,
                                     self.clock, self.club, self.standings, self.transport,
                                     busy_notice_s=settings.database_busy_notice_seconds)
        self.dispatcher.send_now = self.transport.send
        self.scheduled = ScheduledMessages(self.db, self.outbox, self.clock)
        self.scheduler = Scheduler([
            self.scheduled,
            PollDeadlines(self.db, self.outbox, self.clock, lambda: self.club),
            PollReminders(self.db, self.outbox, self.clock, lambda: self.club, self.transport),
            ReminderEngine(self.db, self.outbox, self.clock, lambda: self.club),
            Welcomes(self.db, self.outbox, self.clock, lambda: self.club,
                     timedelta(seconds=club.welcome_every_seconds)),
            RetentionPurge(self.db, self.clock, lambda: self.club, settings.privacy)])
        self.club_rooms: dict[str, str] = {}  # room id -> role (main, north…), the bot in it
        self.main_room_id: str | None = None  # the main room, while the bot is in it
        self._configured: dict[str, tuple[str, str]] = {}  # room id -> (role, as configured)
        self._tasks: list[asyncio.Task[None]] = []
        self._invitations: set[asyncio.Task[None]] = set()  # invitations being answered
        self._members_work: asyncio.Task[None] | None = None
        self._undecrypted: dict[str, tuple[str, MegolmEvent]] = {}
        self.notices = UndecryptableNotices(
            self.transport, self.clock, self.t,
            timedelta(seconds=settings.matrix.undecryptable_notice_seconds),
            lambda event_id: event_id in self._undecrypted)
        self._token: str | None = None  # the sync token of the last batch handled
        self._token_saved_at = 0.0  # loop time of the last save
        self._saved_token: str | None = None  # the token the database holds
        self._rooms: dict[str, KnownRoom] = {}  # the joined_rooms table, kept in memory
        self._told_storage_down: set[str] = set()  # commands answered "cannot save"
        # another program holds the database's lock: batches kept in memory, oldest first,
        # with their sync tokens; the commands answered from a read meanwhile; those waiting
        # (by event id: since when, loop time); the task saving them once the lock is freed
        self._unsaved: list[tuple[Batch, str]] = []
        self._answered: set[str] = set()
        self._waiting: dict[str, _Waiting] = {}
        self._answering: set[asyncio.Task[None]] = set()
        self._read_turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._saver: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        self.dispatcher.on_reschedule = self.scheduler.refresh
        self.outbox.on_room_opened = self.dispatcher.room_opened
        self.outbox.t = self.t
        self.outbox.on_failed = self.dispatcher.row_failed
        self._own_seen: dict[str, str] = {}  # the bot's events synced since the position was
        # saved: transaction id -> event id (``_write_own_marks``)

    # --- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Migrates, logs in, catches up, joins the rooms, and starts syncing in the background."""
        await self.db.upgrade()
        await self.transport.login()
        await self.transport.keep_keys()  # others must know our device before they write to us
        if self.transport.client.olm is not None:
            await cross_sign(self.transport.client, self.settings.matrix.password,
                             self.settings.matrix.store_path)
        await Profile(self.transport.client, self.db, self.settings.matrix).keep()
        token = await self.load_state()
        # The sender starts now and never holds the start back: the rows queued at the last
        # stop are read first (each room's go before what this start queues), and sent while
        # the bot catches up.
        await self.outbox.read_queue()
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        await self._resolve_club_rooms()
        # A full-state sync at every start: nio must know each room's state (encryption, power
        # levels, members) before the bot answers there; with a token it also brings what was
        # said while the bot was down.
        catch_up = None if token is None else await self.transport.sync(token, 0, full_state=True)
        if catch_up is None:
            await self._first_sync()
        await self.transport.keep_keys()
        await self._club_rooms_found()
        await self._load_members()
        caught_up = asyncio.Event()  # commands queued at the last stop wait for the catch-up
        await self.dispatcher.resume(caught_up)  # batch: it may take some of them back
        try:
            if catch_up is not None:
                await self.handle_sync(catch_up)
            await self._join_club_rooms()  # after the catch-up: it may say the bot was kicked
        finally:
            caught_up.set()
        await recount(self.db, self.transport, self.outbox, self.club, self.clock.now())
        await refresh_stale_polls(self.db, self.outbox, self.club, self.clock.now())
        await self.scheduler.start()
        self._tasks += [asyncio.create_task(self._sync_forever(), name="sync"),
                       asyncio.create_task(self.notices.run(), name="undecryptable")]
        self.ready.set()
        await self._health_line()

    async def _health_line(self) -> None:
        """One line at start that says whether everything is there."""
        async with self.db.transaction() as repos:
            reminders = await repos.reminders.count_pending()
            polls = len(await repos.polls.open_polls())
        facts = {"version": self.club.version, "user": self.transport.user_id,
                 "homeserver": self.settings.matrix.homeserver,
                 "club_rooms": len(self.club_rooms),
                 "configured_rooms": len(self.settings.rooms.configured()),
                 "joined_rooms": len(self._rooms),
                 "database": "SQLite" if self.db.is_sqlite else "PostgreSQL",
                 "revision": await self.db.current_revision(), "pending_reminders": reminders,
                 "open_polls": polls, "scheduled_jobs": len(self.scheduler.jobs())}
        log.info("cct-bot %(version)s ready as %(user)s on %(homeserver)s: %(club_rooms)d club "
                 "room(s) of %(configured_rooms)d configured, %(joined_rooms)d room(s) joined, "
                 "database %(database)s (revision %(revision)s), %(pending_reminders)d pending "
                 "reminder(s), %(open_polls)d open poll(s), %(scheduled_jobs)d scheduled job(s)",
                 facts, extra={"event_kind": "ready", **facts})

    async def load_state(self) -> str | None:
        """Reads the sync token and the known rooms from the database; returns the token."""
        async with self.db.reading() as repos:
            self._token = self._saved_token = await repos.state.get(SYNC_TOKEN)
            self._rooms = {row.room_id: KnownRoom(row.joined_at, row.last_event_id)
                           for row in await repos.rooms.all()}
        self._token_saved_at = asyncio.get_running_loop().time()
        return self._token

    async def stop(self) -> None:
        """Stops syncing, finishes the commands under way, sends what is queued, closes."""
        self._stopping.set()
        tasks = [*self._tasks, *self._invitations,
                 *([self._members_work] if self._members_work else []),
                 *([self._saver] if self._saver else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.dispatcher.hurry()
        await self.dispatcher.drain()
        await self._save_token()
        try:
            await asyncio.wait_for(self.outbox.flush(), timeout=10)
        except Exception:
            log.warning("some replies are still queued; they will be sent at the next start")
        await self.outbox.close()
        self.scheduler.shutdown()
        await self.transport.close()
        await self.db.dispose()

    async def _save_token(self) -> None:
        """Saves the sync position (token, rooms' last events) kept in memory since the last
        batch that saved it, after the batches kept in memory; not if they cannot be saved
        (the next start reads them again)."""
        if self._unsaved:
            try:
                await self._save_unsaved(STOP_LOCK_WAIT_S)
            except StorageUnavailable:
                log.warning("the database is still locked by another program: %d sync "
                            "batch(es) not saved; the next start reads them again",
                            len(self._unsaved))
                return
        if self._token is None or self._token == self._saved_token:
            return  # saved already (the rooms' last events move only with the token)
        last_events = {room_id: room.last_event_id for room_id, room in self._rooms.items()
                       if room.last_event_id}
        try:
            async with self.db.transaction(patience=STOP_LOCK_WAIT_S) as repos:
                await self._write_own_marks(repos, {})
                await _write_position(repos, self._token, last_events)
            self._own_seen.clear()
        except StorageUnavailable:
            log.warning("the sync token could not be saved; the next start reads a little "
                        "history again")

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()

    def request_stop(self) -> None:
        self._stopping.set()

    # --- roles ----------------------------------------------------------------------------
    async def role_of(self, user_id: str) -> Role:
        """The person's role in the club (``bot.standing``)."""
        return await self.standings.role_of(user_id)

    def may_invite(self, user_id: str) -> bool:
        """Invites are accepted from the configured people or servers, and the coordinators."""
        allowed = self.settings.club.allowed_inviters
        server = ":" + user_id.split(":", 1)[-1]
        return user_id in allowed or server in allowed or user_id in self.settings.club.coordinators

    # --- rooms ----------------------------------------------------------------------------
    async def _resolve_club_rooms(self) -> None:
        """The ids of the configured rooms."""
        for role, room in self.settings.rooms.configured().items():
            try:
                self._configured[await self.transport.resolve(room)] = (role, room)
            except MatrixError as error:
                log.warning("cannot find the %s room %s (%s): invite the bot there", role, room,
                            error)

    async def _club_rooms_found(self) -> None:
        """Once nio knows the rooms the bot is in: the configured ones are the club's rooms;
        then the club's space is entered."""
        for room_id in self._configured:
            if room_id in self.transport.client.rooms:
                self._back_in(room_id)
        if self.settings.rooms.space:
            await self._enter_space(self.settings.rooms.space)

    async def _join_club_rooms(self) -> None:
        """Joins the configured rooms the bot is not in (nor has just joined, invited)."""
        for room_id, (role, room) in self._configured.items():
            if room_id in self.club_rooms:
                continue
            known = room_id in self._rooms
            try:
                joined = await self.transport.join(room)
            except MatrixError as error:
                log.warning("cannot join the %s room %s (%s): invite the bot there", role, room,
                            error)
                continue
            await self._joined(joined, known)

    def _club_rooms_changed(self) -> None:
        """The club's rooms the bot is in changed: the main room (the roles) and the commands'
        view of the club follow."""
        self.main_room_id = next((room_id for room_id, role in self.club_rooms.items()
                                  if role == "main"), None)
        self.club = replace(self.club, rooms={role: room_id for room_id, role
                                              in self.club_rooms.items()})
        self.dispatcher.club = self.club

    def _forget_room(self, room_id: str) -> None:
        """The bot is no longer in ``room_id`` (it left, was kicked or banned, or is invited
        back): its state (members, power levels, creators), its club role and its events
        waiting for a key are forgotten; a rejoin starts afresh."""
        self.transport.forget_room(room_id)
        self._rooms.pop(room_id, None)
        for event_id in [e for e, (room, _) in self._undecrypted.items() if room == room_id]:
            del self._undecrypted[event_id]
        if self.club_rooms.pop(room_id, None) is not None:
            self._club_rooms_changed()
            log.info("no longer in the club room %s", room_id, extra={"room": room_id})

    async def _load_members(self) -> None:
        """The full member lists of the club's rooms (who is a club member), then, in the
        background, of the other rooms the bot is in (the groups' rooms, rooms to link)."""
        await self.transport.load_members(list(self.club_rooms))
        self._keep_members([room for room in self.transport.joined_room_ids()
                            if room not in self.club_rooms])

    def _keep_members(self, rooms: list[str] | None = None) -> None:
        """Loads, in the background and one batch at a time, the member lists the bot knows
        only in part: ``rooms``, or the club's rooms (one joined since the start becomes known
        with the next sync)."""
        if self._members_work is not None and not self._members_work.done():
            return
        wanted = self.transport.partly_known(list(self.club_rooms) if rooms is None else rooms)
        if wanted:
            self._members_work = asyncio.create_task(self.transport.load_members(wanted),
                                                     name="members")

    async def _enter_space(self, space: str) -> None:
        """Joins the club's space, where group rooms are filed."""
        try:
            space_id = await self.transport.enter_room(space)
        except RoomUnavailable as error:
            log.warning("cannot join the club's space %s (%s): invite the bot there", space, error)
            return
        self.club = replace(self.club, space=space_id)
        self.dispatcher.club = self.club
    async def _handle_invites(self, response: SyncResponse) -> None:
        """Accepts the invitations of the allowed people, declines the others — in the
        background: joining a room of a server that never answers must not hold the sync."""
        for room_id, info in response.rooms.invite.items():
            self._forget_room(room_id)  # invited: not in it (a kick may have gone unseen)
            inviter = self._inviter(info.invite_state)
            work = self._accept(room_id, inviter) if inviter and self.may_invite(inviter) \
                else self._decline(room_id, inviter)
            task = asyncio.create_task(work, name=f"invite {room_id}")
            self._invitations.add(task)
            task.add_done_callback(self._invitations.discard)

    async def invitations_answered(self) -> None:
        """Waits for the invitations under way to be accepted or declined."""
        await asyncio.gather(*self._invitations, return_exceptions=True)

    async def _accept(self, room_id: str, inviter: str) -> None:
        try:
            await self.transport.join(room_id)
        except MatrixError as error:
            log.warning("invite to %s from %s: join failed (%s)", room_id, inviter, error)
            return
        await self._joined(room_id, False)
        log.info("joined %s, invited by %s", room_id, inviter,
                 extra={"room": room_id, "inviter": inviter})

    async def _decline(self, room_id: str, inviter: str | None) -> None:
        log.info("refused the invite to %s from %s", room_id, inviter,
                 extra={"room": room_id, "inviter": inviter})
        try:
            await self.transport.leave(room_id)
        except MatrixError as error:
            log.warning("could not decline the invite to %s (%s)", room_id, error)

    async def _joined(self, room_id: str, known: bool) -> None:
        """Records a join the bot has just made, unless another one recorded it meanwhile
        (``known``: the room was recorded before this join). The start's join of a configured
        room and the acceptance of the invitation to it may race: the later record would move
        the join time past commands sent in between, which would be taken for history."""
        if known or room_id not in self._rooms:
            await self._mark_joined(room_id, self.clock.now())

    async def _mark_joined(self, room_id: str, at: datetime) -> None:
        """Records that the bot has just joined a room: what was said there before is history
        (a rejoin too); a configured room is a club room again."""
        async with self.db.transaction() as repos:
            row = await repos.rooms.mark_joined(room_id, at)
            last_event_id = row.last_event_id
        self._rooms[room_id] = KnownRoom(at, last_event_id)
        self._back_in(room_id)

    def _back_in(self, room_id: str) -> None:
        """The bot is in ``room_id`` (again): a configured room is a club room."""
        configured = self._configured.get(room_id)
        if configured is not None and self.club_rooms.get(room_id) != configured[0]:
            self.club_rooms[room_id] = configured[0]
            self._club_rooms_changed()

    def _inviter(self, invite_state: Iterable[Any]) -> str | None:
        for event in invite_state:
            if (isinstance(event, InviteMemberEvent) and event.state_key == self.transport.user_id
                    and event.membership == "invite"):
                return str(event.sender)
        return None

    # --- sync -----------------------------------------------------------------------------
    async def _first_sync(self) -> None:
        """First start ever: learn the rooms and their state, answer nothing from history."""
        response = await self.transport.sync(None, 0, full_state=True)
        now = self.clock.now()
        last_events = {room_id: info.timeline.events[-1].event_id
                       for room_id, info in response.rooms.join.items() if info.timeline.events}
        async with self.db.transaction() as repos:
            for room_id in response.rooms.join:
                await repos.rooms.mark_joined(room_id, now)
                self._rooms[room_id] = KnownRoom(now, last_events.get(room_id))
            await _write_position(repos, response.next_batch, last_events)
        self._token = self._saved_token = response.next_batch
        await self._handle_invites(response)

    async def _sync_forever(self) -> None:
        delay = 1.0
        failing_since: float | None = None
        while not self._stopping.is_set():
            try:
                response = await self.transport.sync(self._token,
                                                     self.settings.matrix.sync_timeout_ms)
                self.transport.keep_keys_meanwhile()  # plain rooms' replies need not wait
                handed_over = self.outbox.pushes
                tasks = await self.handle_sync(response)
                self._keep_members()
                await self._let_replies_go(tasks, handed_over)
                await self.transport.keys_kept()
                delay = 1.0
                if failing_since is not None:
                    down = round(asyncio.get_running_loop().time() - failing_since, 1)
                    log.info("sync restored after %.0f s", down, extra={"down_s": down})
                    failing_since = None
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failing_since = failing_since or asyncio.get_running_loop().time()
                log.warning("sync failed (%s); retrying in %.0fs", error, delay,
                            extra={"retry_s": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def _let_replies_go(self, tasks: list[asyncio.Task[None]], since: int) -> None:
        """Waits (at most ``REPLY_GRACE_S``) for the batch's commands to run and their replies
        (the rows handed over after the ``since``-th) to be sent before syncing again: a sync
        already waiting on the homeserver slows our own sends down."""
        if not tasks and self.outbox.idle:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_GRACE_S
        if tasks:
            await asyncio.wait(tasks, timeout=REPLY_GRACE_S)
        await self.outbox.settled(max(0.0, deadline - loop.time()), since)

    async def handle_sync(self, response: SyncResponse) -> list[asyncio.Task[None]]:
        """Queues the batch's commands and welcomes and saves the token, in one transaction;
        a batch holding a single command runs it in that same transaction (one commit before
        its reply goes); others run in the background (their tasks are returned)."""
        left = self._rooms_left(response)
        for room_id in left:
            self._forget_room(room_id)
        await self._handle_invites(response)
        batch = await self._read_batch(self._rooms, response, self._late_decryptions())
        batch.left = [room_id for room_id in left if room_id not in self._rooms]  # not back in
        self.dispatcher.note_redactions(batch.redactions)
        batch.limited = await self.dispatcher.screen(
            [c for c in batch.commands if c.event_id not in self._told_storage_down])
        token = response.next_batch
        position = self._position_due(batch)
        if batch.is_empty() and not (position or self._unsaved):
            self._remember(batch, token)  # nothing to lose: saved with a later batch
            self._own_seen.update(batch.own)
            return []
        if self._unsaved:  # waiting for another program's lock: this batch waits behind
            return self._keep_unsaved(batch, token)
        try:
            new_commands, handled = await self._save(batch, token, position)
        except StorageBusy:
            return self._keep_unsaved(batch, token)
        except StorageUnavailable:
            await self._tell_storage_is_down(batch.commands)
            raise
        log.debug("sync batch saved", extra={
            "commands": len(batch.commands), "new_commands": len(new_commands),
            "inline": len(handled), "reactions": len(batch.reactions),
            "rooms": len(response.rooms.join), "token": token})
        self._remember(batch, token)
        return await self._saved(batch, token, position, new_commands, handled)

    async def _saved(self, batch: Batch, token: str, position: bool,
                     new_commands: list[Command], handled: list[Handled],
                     ) -> list[asyncio.Task[None]]:
        """Once ``batch`` is committed: its messages go, its commands run."""
        if position:
            self._token_saved_at = asyncio.get_running_loop().time()
            self._saved_token = token
            self._own_seen.clear()
        else:
            self._own_seen.update(batch.own)
        for message in batch.queued:
            self.outbox.push(message)
        for done in handled:
            await self.dispatcher.after_commit(done)
        if batch.newcomers:
            await self._schedule_welcomes()
        return [self.dispatcher.submit(c.event_id, c.room_id) for c in new_commands]

    # --- another program holding the database's lock -------------------------------------
    def _keep_unsaved(self, batch: Batch, token: str) -> list[asyncio.Task[None]]:
        """Another program holds the database's write lock: ``batch`` waits in memory (saved,
        with the sync position, once the lock is freed) and the sync goes on. Each of its
        commands that a read can answer is answered at once, in its room's order; the others
        wait for the lock, their senders told if it lasts (``_save_when_free``)."""
        self._unsaved.append((batch, token))
        self._remember(batch, token)
        tasks = []
        for command in batch.commands:
            if command.event_id in batch.limited or command.event_id in self._told_storage_down:
                continue  # answered when the batch is saved, or never run
            task = asyncio.create_task(self._answer_from_read(command))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            tasks.append(task)
        if self._saver is None:
            self._saver = asyncio.create_task(self._save_when_free(), name="saver")
        return tasks

    async def _answer_from_read(self, command: Command) -> None:
        """Answers ``command`` from a read if it needs no write and nothing of its room waits
        before it; else it waits for the lock."""
        async with self._read_turns[command.room_id]:
            blocked = (self.dispatcher.busy(command.room_id)
                       or any(w.command.room_id == command.room_id
                              for w in self._waiting.values()))
            if not blocked and await self.dispatcher.answer_from_read(command):
                self._answered.add(command.event_id)
                return
            loop = asyncio.get_running_loop()
            self._waiting[command.event_id] = _Waiting(command, loop.time())

    async def _save_when_free(self) -> None:
        """Saves the batches kept in memory once the lock is freed; each waiting command's
        sender is told, once, when it has waited ``database.busy_notice_seconds``."""
        delay = 1.0
        try:
            while self._unsaved:
                try:
                    await self._save_unsaved(self._until_next_notice())
                    delay = 1.0
                except StorageBusy:
                    await self._tell_waiting()
                except StorageUnavailable:  # the database failed otherwise: told, tried again
                    await self._tell_storage_is_down([w.command for w in self._waiting.values()])
                    self._waiting.clear()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
                except Exception:
                    log.exception("sync batches kept in memory could not be saved; retrying in "
                                  "%.0f s", delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
        finally:
            self._saver = None

    def _until_next_notice(self) -> float:
        """How long the saver may wait for the lock before a waiting command's sender is to be
        told (at most ``busy_notice_seconds``: a command arriving meanwhile is counted)."""
        limit = float(self.settings.database_busy_notice_seconds)
        now = asyncio.get_running_loop().time()
        dues = [w.since + limit - now for w in self._waiting.values() if not w.told]
        return max(0.0, min([max(limit, 1.0), *dues]))

    async def _tell_waiting(self) -> None:
        limit = self.settings.database_busy_notice_seconds
        now = asyncio.get_running_loop().time()
        for waiting in list(self._waiting.values()):
            if not waiting.told and now - waiting.since >= limit:
                waiting.told = True  # tried once: a notice that could not go is not repeated
                await self.dispatcher.tell_busy(waiting.command)

    async def _save_unsaved(self, patience: float | None) -> None:
        """Saves the batches kept in memory, ``SAVED_TOGETHER`` at a time, each group as one
        batch with its last sync position, once the lock is taken (``StorageBusy`` after
        ``patience`` seconds); then their commands not answered yet run, in order."""
        while self._unsaved:
            await self._save_some_unsaved(patience)
            await asyncio.sleep(0)  # the sync and the replies between two groups

    async def _save_some_unsaved(self, patience: float | None) -> None:
        if self._answering:  # what is answered from a read is recorded as such
            await asyncio.wait(list(self._answering))
        async with self.db.transaction(patience=patience) as repos:
            if self._answering:  # batches that came while the lock was being taken
                await asyncio.wait(list(self._answering))
            count = min(len(self._unsaved), SAVED_TOGETHER)
            batch, token = self._unsaved[0]
            for later, _ in self._unsaved[1:count]:
                batch = batch.then(later)
            token = self._unsaved[count - 1][1]  # the sync position: the last batch's
            new_commands = await self._save_batch(repos, batch, token, True, None)
        del self._unsaved[:count]
        log.info("sync batches kept while the database was locked are saved",
                 extra={"batches": count, "commands": len(batch.commands),
                        "waited": len(self._waiting)})
        self._answered.difference_update(c.event_id for c in batch.commands)
        for command in batch.commands:
            self._waiting.pop(command.event_id, None)
        await self._saved(batch, token, True, new_commands, [])

    async def _schedule_welcomes(self) -> None:
        """Newcomers were recorded: the welcomes' timer moves to the next one due."""
        try:
            await self.scheduler.refresh(Welcomes.kind)
        except Exception:
            log.exception("the welcomes could not be scheduled now; they will be with the next "
                          "arrival, after the next welcome, or at the next start")

    async def _save(self, batch: Batch, token: str,
                    position: bool) -> tuple[list[Command], list[Handled]]:
        """Saves the batch; a lone command is run in the same transaction and recorded as
        handled at once. If running it fails in a way the dispatcher did not catch, the batch is
        saved again without it (the command then runs in the background), so that no command
        can keep the sync token from moving on."""
        inline = self._inline_candidate(batch)
        try:
            try:
                return await self._save_with(batch, token, position, inline, None)
            except Undone as undone:  # rolled back; saved again with the command's answer
                return await self._save_with(batch, token, position, inline, undone)
        except StorageUnavailable:
            raise
        except Exception:
            if inline is None:
                raise
            log.exception("command %s could not run with its batch; queued instead",
                          inline.event_id)
        async with self.db.transaction(patience=0) as repos:
            return await self._save_batch(repos, batch, token, position, None), []

    async def _save_with(self, batch: Batch, token: str, position: bool, inline: Command | None,
                         undone: Undone | None) -> tuple[list[Command], list[Handled]]:
        """One transaction: the batch, and ``inline`` run in it (or its answer when it was
        ``undone`` in an earlier try). It does not wait for another program's lock on the
        database (``StorageBusy``): the sync must go on."""
        async with self.db.transaction(patience=0) as repos:
            new_commands = await self._save_batch(repos, batch, token, position, inline)
            if inline is None or inline not in new_commands:
                return new_commands, []
            handled = await self.dispatcher.run_command(repos, inline, mark_handled=False,
                                                        undone=undone)
            return [c for c in new_commands if c is not inline], [handled]

    def _inline_candidate(self, batch: Batch) -> Command | None:
        """The batch's command when it is alone and nothing of its room is waiting before it."""
        if len(batch.commands) != 1:
            return None
        command = batch.commands[0]
        if (command.event_id in self._told_storage_down or command.event_id in batch.limited
                or self.dispatcher.busy(command.room_id)):
            return None
        return command

    def _position_due(self, batch: Batch) -> bool:
        """Whether the sync position (token, rooms' last events) is saved with ``batch``: when
        reading it again would not be harmless (its effects are keyed by the batch; a command
        answered that nothing could be saved must never run later), else every few minutes
        (and at stop)."""
        return (not batch.is_repeatable() or self._token_save_due()
                or any(c.event_id in self._told_storage_down for c in batch.commands))

    def _token_save_due(self) -> bool:
        return asyncio.get_running_loop().time() - self._token_saved_at >= TOKEN_SAVE_EVERY_S

    def _remember(self, batch: Batch, token: str) -> None:
        """What the bot keeps in memory of a batch (the database has it, or does not need it)."""
        self._token = token
        for room_id, joined_at in batch.joined.items():
            self._rooms.setdefault(room_id, KnownRoom(joined_at)).joined_at = joined_at
            self._back_in(room_id)
        for room_id, event_id in batch.last_events.items():
            if room_id in self._rooms:
                self._rooms[room_id].last_event_id = event_id

    def _rooms_left(self, response: SyncResponse) -> list[str]:
        """The rooms the bot is no longer in: left, kicked or banned (a room it is back in is
        listed as joined instead), or invited to while it thought it was in them."""
        left = [room_id for room_id in response.rooms.leave if room_id not in response.rooms.join]
        return left + [room_id for room_id in response.rooms.invite if room_id in self._rooms]

    async def _tell_storage_is_down(self, commands: list[Command]) -> None:
        """The database refuses writes (read-only, disk full…): each command of the batch is
        answered at once, without the outbox, that nothing was saved; it will not be run when
        the database is back (the person was told to try again)."""
        for command in commands:
            if command.event_id in self._told_storage_down:
                continue
            reply = Reply(self.t("error.storage_unavailable"))
            content = message_content(reply, in_reply_to=command.event_id,
                                      reply_sender=command.sender, thread=command.thread_root)
            try:
                await asyncio.wait_for(self.transport.send(
                    command.room_id, content, txn_id("storage", command.event_id)), 30)
            except (MatrixError, TimeoutError) as error:
                log.warning("could not tell %s that the database is down (%s)", command.sender,
                            error)
                continue
            self._told_storage_down.add(command.event_id)

    def _late_decryptions(self) -> dict[str, list[Any]]:
        """Events that could not be decrypted earlier and can now (their room key arrived)."""
        late: dict[str, list[Any]] = {}
        for event_id, (room_id, event) in list(self._undecrypted.items()):
            decrypted = self.transport.decrypt(event)
            if decrypted is not None:
                del self._undecrypted[event_id]
                late.setdefault(room_id, []).append(decrypted)
        return late

    async def _read_batch(self, known: dict[str, KnownRoom], response: SyncResponse,
                          late: dict[str, list[Any]]) -> Batch:
        batch = Batch()
        cutoff = self.clock.now() - timedelta(minutes=self.settings.matrix.catch_up_minutes)
        for room_id, events in late.items():
            room = known.get(room_id)
            if room is not None:
                self._classify(batch, room_id, events, max(room.joined_at, cutoff))
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            room = known.get(room_id)
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
        if batch.redactions:
            await self._weigh_redactions(batch)
        return batch

    def _new_join(self, room: KnownRoom | None, events: list[Any]) -> datetime | None:
        """When the bot last joined the room in ``events``, unless that is the join known."""
        joined = None
        for event in events:
            if (isinstance(event, RoomMemberEvent) and event.state_key == self.transport.user_id
                    and event.membership == "join" and event.prev_membership != "join"):
                joined = _ts(event)
        if joined is None or (room is not None and joined <= room.joined_at):
            return None
        return joined

    async def _weigh_redactions(self, batch: Batch) -> None:
        """Notes which redactions come from someone allowed to redact others' events in their
        room (read from the room's current state), and drops the commands of the batch, and
        the events still waiting for their key, that a redaction takes back."""
        batch.redactions = [replace(r, may_redact=await self.transport.may_redact(r.room_id,
                                                                                  r.sender))
                            for r in batch.redactions]
        taken = {redaction.redacts: redaction for redaction in batch.redactions}
        batch.commands = [c for c in batch.commands if not (
            c.event_id in taken and taken[c.event_id].takes_back(c.room_id, c.sender))]
        for event_id, redaction in taken.items():
            waiting = self._undecrypted.get(event_id)
            if waiting is not None and redaction.takes_back(waiting[0], waiting[1].sender):
                del self._undecrypted[event_id]

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
                if event.event_id == stop_at or _ts(event) < cutoff:
                    return list(reversed(older))
                older.append(event)
            if not page.events or page.end == token:
                break
            token = page.end
        log.info("backfilled %d events in %s", len(older), room_id)
        return list(reversed(older))

    def _classify(self, batch: Batch, room_id: str, events: list[Any], since: datetime) -> None:
        me = self.transport.user_id
        for event in events:
            if event.sender == me:
                txn = event.source.get("unsigned", {}).get("transaction_id")
                if isinstance(txn, str):
                    batch.own[txn] = event.event_id
                continue
            if _ts(event) < since:
                continue
            if isinstance(event, RoomMessageText):
                body = body_with_user_ids(event.body, event.formatted_body)
                if command_text(body, self.club.prefix) is not None:
                    batch.commands.append(Command(event.event_id, room_id, event.sender, body,
                                                  _ts(event), thread_root(event.source.get(
                                                      "content", {}))))
            elif isinstance(event, RoomMemberEvent):
                if (event.membership == "join" and event.prev_membership != "join"
                        and room_id in self.club_rooms):
                    batch.arrivals.append(Arrival(room_id, event.state_key))
            elif isinstance(event, MegolmEvent):
                self._remember_undecrypted(room_id, event)
            elif isinstance(event, ReactionEvent):
                batch.reactions.append(Reaction(event.event_id, room_id, event.sender,
                                                event.reacts_to, event.key, _ts(event)))
            elif isinstance(event, RedactionEvent):
                batch.redactions.append(Redaction(event.event_id, room_id, event.sender,
                                                  event.redacts, _ts(event)))
            else:
                batch.poll_responses += responses_of(room_id, [event])

    def _remember_undecrypted(self, room_id: str, event: MegolmEvent) -> None:
        """Keeps an event whose room key has not arrived yet, to retry after the next syncs;
        its sender is told if the key does not come soon."""
        log.warning("cannot decrypt %s in %s yet; waiting for its key", event.event_id, room_id)
        self._undecrypted[event.event_id] = (room_id, event)
        self.notices.watch(event.event_id, room_id, event.sender,
                           thread_root(event.source.get("content", {})))
        while len(self._undecrypted) > MAX_UNDECRYPTED:
            self._undecrypted.pop(next(iter(self._undecrypted)))

    async def _write_own_marks(self, repos: Repositories, own: Mapping[str, str]) -> None:
        """Marks sent, in the caller's transaction, the rows the bot has sent and not marked
        yet (the outbox marks them a moment after sending) and those whose event the sync
        brought back (``own``, and the batches not saved since the last position): a 👍 or a
        vote on a message just sent finds it, and the sync position never passes one of the
        bot's events whose row is unmarked — after a crash between the send and the mark,
        the event comes back with the next start's first sync, and the 👍s made meanwhile
        with it."""
        now = self.clock.now()
        for row_id, event_id, at in self.outbox.unmarked():
            await repos.outbox.mark_sent(row_id, event_id, at)
        for txn, event_id in {**self._own_seen, **own}.items():
            await repos.outbox.mark_sent_by_txn(txn, event_id, now)

    async def _save_batch(self, repos: Repositories, batch: Batch, token: str, position: bool,
                          inline: Command | None) -> list[Command]:
        """Saves what the batch asks (``inline``, run in this transaction, is recorded as
        handled), with the sync position if ``position``; returns the commands not received
        before."""
        now = self.clock.now()
        batch.queued, batch.newcomers = [], 0  # what a rolled back attempt did is gone with it
        for room_id in batch.left:
            await repos.rooms.forget(room_id)
        for room_id, joined_at in batch.joined.items():
            await repos.rooms.mark_joined(room_id, joined_at)
        new = []
        for command in batch.commands:
            if command.event_id in self._told_storage_down:
                continue  # answered "nothing was saved" while the database was down
            limited = command.event_id in batch.limited  # over the rate: recorded, never run
            answered = command.event_id in self._answered  # from a read, while locked
            if not await repos.inbox.add_if_new(
                    event_id=command.event_id, room_id=command.room_id, sender=command.sender,
                    body=command.body, sent_at=command.sent_at, received_at=now,
                    handled_at=now if command is inline or limited or answered else None,
                    thread_root=command.thread_root):
                continue
            notice = batch.limited.get(command.event_id)
            if notice is not None:
                batch.queued += await self.dispatcher.answer_limited(repos, command, notice)
            elif not (limited or answered):
                new.append(command)
        for arrival in batch.arrivals:  # greeted later, together (``bot.welcomes``)
            if await repos.welcomes.first_time(arrival.user_id, arrival.room_id, now):
                batch.newcomers += 1
        if position or batch.reactions or batch.poll_responses:
            await self._write_own_marks(repos, batch.own)
        effects = []
        for redaction in batch.redactions:  # a command taken back: its text goes
            await repos.inbox.withdraw(redaction.redacts, redaction.room_id,
                                       None if redaction.may_redact else redaction.sender, now)
        responses = [r for r in batch.poll_responses
                     if await self.standings.is_member(r.sender, repos)]
        registry = self.dispatcher.registry  # what the capabilities consume
        for answers in registry.poll_answers if responses else ():
            effects += await answers(repos, responses, self.club, self.t)
        reactions = [r for r in batch.reactions if await self.standings.is_member(r.sender, repos)]
        if reactions or batch.redactions:
            events = RoomEvents(reactions, batch.redactions)
            for consume in registry.consumers:
                effects += await consume(repos, events, self.club, self.t)
        batch.queued += await queue_effects(repos, effects, f"sync-{token}", now)
        if position:
            await _write_position(repos, token, batch.last_events)
        return new
