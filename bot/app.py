"""The bot: logs in, joins the club's rooms, syncs, queues commands durably, sends replies.

Each sync response is read (``bot.reader``), recorded with its sync position in one
transaction (``bot.recorder``), and its commands handed to the dispatcher in that transaction
(``Dispatcher.take``). While another program holds the database's write lock, batches wait in
memory and the sync goes on (``bot.unsaved``); ``bot.sync`` ties them together. Invitations
are answered in the background (``bot.invites``); the rooms the bot is in are kept by
``bot.rooms``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from nio import AsyncClient, SyncResponse

from bot.clock import Clock, SystemClock
from bot.club import club_of
from bot.cross_signing import cross_sign
from bot.dispatcher import Dispatcher
from bot.invites import Invitations
from bot.jobs import declared_jobs, start_work
from bot.matrix import MatrixTransport
from bot.outbox import Outbox
from bot.profile import Profile
from bot.reader import BatchReader
from bot.recorder import SYNC_TOKEN, BatchRecorder, write_position
from bot.rooms import Rooms
from bot.scheduled import ScheduledMessages
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.standing import Standings
from bot.sync import SyncBatches
from commands import build_registry
from commands.context import Club
from commands.i18n import Translator
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database

__all__ = ["SYNC_TOKEN", "Bot", "settle_memory"]
if TYPE_CHECKING:
    from web.server import WebServer

log = logging.getLogger(__name__)
REPLY_GRACE_S = 1.0


def settle_memory(collect: bool = True) -> None:
    """What exists now (the libraries; once started, the schedule and the rooms) is moved out of
    the garbage collector's way, so that a full collection during a command scans only what the
    bot made since. ``collect``: a full collection first, before the event loop runs; once
    started there is nothing left to free, and a collection would stop the loop for as long as
    the heap is large (a catch-up may be under way)."""
    if collect:
        gc.collect()
    gc.freeze()


class Bot:
    """The whole runtime, started with ``start()`` and stopped with ``stop()``."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 registry: Registry | None = None, client: AsyncClient | None = None) -> None:
        """``client``: nio's client, made before the event loop ran (``prepared_client``)."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.transport = MatrixTransport(settings.matrix, self.clock, client)
        self.outbox = Outbox(self.db, self.transport, self.clock,
                             retry_for=timedelta(hours=settings.matrix.send_retry_hours))
        self.t = Translator(settings.club.language)
        self.rooms = Rooms(self.transport, self.db, self.clock, settings.rooms,
                           self._club_changed)
        self.standings = Standings(self.transport, settings.club, lambda: self.club_rooms,
                                   lambda: self.rooms.main_room_id)
        self.dispatcher = Dispatcher(registry or build_registry(), self.db, self.outbox,
                                     self.clock, club_of(settings), self.standings, self.transport,
                                     busy_notice_s=settings.database_busy_notice_seconds)
        self.dispatcher.hold = self.rooms.held
        self.scheduler = self._scheduler()
        self.web = self._web_server()
        self._connect()
        self._tasks: list[asyncio.Task[None]] = []
        self.profile_kept: asyncio.Task[None] | None = None  # the profile's upkeep, at start
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()

    def _scheduler(self) -> Scheduler:
        """The scheduler: the scheduled messages and the jobs the capabilities declare."""
        self.scheduled = ScheduledMessages(self.db, self.outbox, self.clock)
        return Scheduler([self.scheduled, *declared_jobs(
            self.dispatcher.registry.jobs, self.db, self.outbox, self.clock, self.current_club,
            self.transport, self.transport)])

    def _web_server(self) -> WebServer | None:
        """The public web server, if ``[web]`` enables it (its modules, aiohttp's server and
        the page templates, are loaded only then)."""
        web = self.settings.web
        if not web.enabled:
            return None
        from web.public import Public
        from web.server import WebConfig, WebServer

        url = self.settings.database_url
        return WebServer(lambda: Database(url),
                         lambda db: Public(db, self.current_club, self.t, self.clock.now,
                                           web.base_url),
                         WebConfig(host=web.host, port=web.port,
                                   requests_per_minute=web.requests_per_minute))

    def _connect(self) -> None:
        """The parts that read, record and answer the sync, and their callbacks."""
        matrix = self.settings.matrix
        self.reader = BatchReader(
            self.transport, self.clock, timedelta(minutes=matrix.catch_up_minutes),
            lambda: self.club.prefix, self.club_rooms, self.t,
            timedelta(seconds=matrix.undecryptable_notice_seconds),
            self.dispatcher.registry.answer_events)
        self.reader.maybe_club = lambda room_id: self.rooms.held(room_id) is not None
        self.notices = self.reader.notices
        self.recorder = BatchRecorder(self.transport, self.outbox, self.clock, self.dispatcher,
                                      self.standings, self.current_club, self.t)
        self.invitations = Invitations(self.transport, self.rooms, self.settings.club,
                                       self._forget_room)
        self.sync = SyncBatches(self.db, self.outbox, self.dispatcher, self.rooms,
                                self.invitations, self.reader, self.recorder, self.scheduler,
                                self._forget_room)
        self.dispatcher.send_now = self.transport.send
        self.dispatcher.on_reschedule = self.scheduler.refresh
        self.outbox.delivery.on_room_opened = self.dispatcher.room_opened
        self.outbox.delivery.t = self.t
        self.outbox.on_failed = self.dispatcher.row_failed
        self.outbox.delivery.on_outcome_failed = self.dispatcher.outcome_failed

    @property
    def club(self) -> Club:
        """The commands' view of the club as it is now (it changes with its rooms): the
        dispatcher's, the one copy."""
        return self.dispatcher.club

    def current_club(self) -> Club:
        """``club``, for the parts that read it when they need it."""
        return self.club

    @property
    def club_rooms(self) -> dict[str, str]:
        """The club's rooms the bot is in: room id -> role (main, north…)."""
        return self.rooms.club_rooms

    @property
    def main_room_id(self) -> str | None:
        """The main room, while the bot is in it."""
        return self.rooms.main_room_id

    def _club_changed(self, **changes: Any) -> None:
        """The club's rooms or space changed: the commands see it."""
        self.dispatcher.club = replace(self.dispatcher.club, **changes)

    # --- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Migrates, logs in, catches up, joins the rooms, and starts syncing in the background."""
        await self.db.upgrade()
        await self.db.scrub_leftovers()
        await self.transport.login()
        await self.transport.keep_keys()  # others must know our device before they write to us
        if self.transport.client.olm is not None:
            await cross_sign(self.transport.client, self.settings.matrix.password,
                             self.settings.matrix.store_path)
        # The profile is brought in line in the background: the bot works with any profile,
        # and its requests (an avatar's upload) never hold the start back.
        self.profile_kept = asyncio.create_task(
            Profile(self.transport.client, self.db, self.settings.matrix).keep(), name="profile")
        self._tasks.append(self.profile_kept)
        token = await self.load_state()
        # The sender starts now and never holds the start back: the rows queued at the last
        # stop are read first (each room's go before what this start queues), and sent while
        # the bot catches up.
        await self.outbox.read_queue()
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        self.rooms.resolve()
        await self._catch_up(token)
        await start_work(self.dispatcher.registry, self.db, self.outbox, self.club,
                         self.transport, self.clock.now())
        await self.scheduler.start()
        self._tasks += [asyncio.create_task(self._sync_forever(), name="sync"),
                        asyncio.create_task(self.notices.run(), name="undecryptable")]
        if self.web is not None:
            await self.web.start()  # a failure is logged: the bot works without it
        self.ready.set()
        await self._health_line()

    async def _catch_up(self, token: str | None) -> None:
        """A full-state sync at every start: nio must know each room's state (encryption, power
        levels, members) before the bot answers there; with a token it also brings what was
        said while the bot was down. The commands queued at the last stop wait for it, and
        for the club's rooms to be known."""
        catch_up = None if token is None else await self.transport.sync(token, 0, full_state=True)
        if catch_up is None:
            await self._first_sync()
        await self.transport.keep_keys()
        self.rooms.found()
        await self.rooms.load_members()
        settled = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._settle(settled), name="settle"))
        await self.dispatcher.resume(settled)  # the catch-up may take some of them back
        try:
            if catch_up is not None:
                await self.handle_sync(catch_up)
        finally:
            self.rooms.caught_up.set()  # the configured rooms may be joined now (not kicked)

    async def _settle(self, settled: asyncio.Event) -> None:
        await self.rooms.caught_up.wait()
        await self.rooms.known_all.wait()
        settled.set()

    async def _health_line(self) -> None:
        """One line at start that says whether everything is there; the configured rooms are
        joined in the background: while some are, a second line says what they came to."""
        async with self.db.transaction() as repos:
            reminders = await repos.reminders.count_pending()
            polls = len(await repos.polls.open_polls())
        facts = {"version": self.club.version, "user": self.transport.user_id,
                 "homeserver": self.settings.matrix.homeserver, **self._rooms_facts(),
                 "database": "SQLite" if self.db.is_sqlite else "PostgreSQL",
                 "revision": await self.db.current_revision(), "pending_reminders": reminders,
                 "open_polls": polls, "scheduled_jobs": len(self.scheduler.jobs())}
        log.info("cct-bot %(version)s ready as %(user)s on %(homeserver)s: %(club_rooms)d club "
                 "room(s) of %(configured_rooms)d configured (%(rooms_joining)d being joined), "
                 "%(joined_rooms)d room(s) joined, database %(database)s (revision "
                 "%(revision)s), %(pending_reminders)d pending reminder(s), %(open_polls)d open "
                 "poll(s), %(scheduled_jobs)d scheduled job(s)",
                 facts, extra={"event_kind": "ready", **facts})
        if self.rooms.joining:
            self._tasks.append(asyncio.create_task(self._rooms_line(), name="rooms line"))

    def _rooms_facts(self) -> dict[str, int]:
        return {"club_rooms": len(self.club_rooms),
                "configured_rooms": len(self.settings.rooms.configured()),
                "rooms_joining": self.rooms.joining, "joined_rooms": len(self.rooms.known)}

    async def _rooms_line(self) -> None:
        """Once the configured rooms are joined or given up: the rooms, as the ready line."""
        await self.rooms.settled.wait()
        facts = self._rooms_facts()
        log.info("configured rooms joined: %(club_rooms)d club room(s) of %(configured_rooms)d "
                 "configured, %(joined_rooms)d room(s) joined", facts,
                 extra={"event_kind": "rooms_ready", **facts})

    async def load_state(self) -> str | None:
        """Reads the sync token and the known rooms from the database; returns the token."""
        async with self.db.reading() as repos:
            token = await repos.state.get(SYNC_TOKEN)
            await self.rooms.load(repos)
        self.sync.position_saved(token)
        return token

    async def stop(self) -> None:
        """Stops syncing, finishes the commands under way, sends what is queued, closes."""
        self._stopping.set()
        if self.web is not None:
            await self.web.stop()
        tasks = [*self._tasks, *self.rooms.tasks, *self.invitations.tasks,
                 *([self.rooms.members_work] if self.rooms.members_work else []),
                 *([self.sync.unsaved.saver] if self.sync.unsaved.saver else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.dispatcher.hurry()
        await self.dispatcher.drain()
        await self.sync.save_position()
        try:
            await asyncio.wait_for(self.outbox.flush(), timeout=10)
        except Exception:
            log.warning("some replies are still queued; they will be sent at the next start")
        await self.outbox.close()
        self.scheduler.shutdown()
        await self.transport.close()
        await self.db.dispose()

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()

    def request_stop(self) -> None:
        self._stopping.set()

    async def role_of(self, user_id: str) -> Role:
        """The person's role in the club (``bot.standing``)."""
        return await self.standings.role_of(user_id)

    def _forget_room(self, room_id: str) -> None:
        """The bot is no longer in ``room_id``: the room and its events waiting for a key are
        forgotten."""
        self.rooms.forget(room_id)
        self.reader.forget(room_id)

    # --- sync -----------------------------------------------------------------------------
    async def _first_sync(self) -> None:
        """First start ever: learn the rooms and their state, answer nothing from history (of
        which one event per room is asked, the room's last: the position where history ends,
        without the homeserver sending, nor the bot reading, a timeline of each room)."""
        response = await self.transport.sync(None, 0, full_state=True, timeline_limit=1)
        now = self.clock.now()
        last_events = self.rooms.first_known(response.rooms.join, now)
        async with self.db.transaction() as repos:
            await repos.rooms.mark_all_joined(list(response.rooms.join), now)
            await write_position(repos, response.next_batch, last_events)
        self.sync.position_saved(response.next_batch)
        self.invitations.answer(response)

    async def _sync_forever(self) -> None:
        delay = 1.0
        failing_since: float | None = None
        while not self._stopping.is_set():
            try:
                response = await self.transport.sync(self.sync.token,
                                                     self.settings.matrix.sync_timeout_ms)
                self.transport.keep_keys_meanwhile()  # plain rooms' replies need not wait
                handed_over = self.outbox.pushes
                tasks = await self.handle_sync(response)
                self.rooms.keep_members()
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
        already waiting on the homeserver slows our own sends down. Not for a reply long to
        send (``Outbox.quick``): meanwhile the other rooms' commands would wait."""
        if not tasks and self.outbox.idle:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_GRACE_S
        if tasks:
            await asyncio.wait(tasks, timeout=REPLY_GRACE_S)
        await self.outbox.settled(max(0.0, deadline - loop.time()), since, quick_only=True)

    async def handle_sync(self, response: SyncResponse) -> list[asyncio.Task[None]]:
        """Handles one sync response (``SyncBatches.handle``); the tasks of the commands
        started in the background are returned."""
        return await self.sync.handle(response)
