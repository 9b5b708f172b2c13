"""The rooms the bot is in: the ``joined_rooms`` table kept in memory, the club's rooms among
them (the configured ones: main, north…), their joins, members and the club's space."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nio import SyncResponse

from bot.batch import Batch, KnownRoom
from bot.clock import Clock
from bot.matrix import MatrixTransport
from bot.matrix_api import MatrixError, RoomUnavailable
from bot.settings import RoomSettings
from storage.db import Database
from storage.repositories import Repositories

log = logging.getLogger("bot.app")  # the bot's records, as the log names them
ClubChanged = Callable[..., None]  # the changes to ``Club`` (``rooms``, ``space``)


class Rooms:
    """``known``: every room the bot is in (when it joined, its last event seen);
    ``club_rooms``: the club's rooms it is in, room id -> role; ``main_room_id``: the main
    room, while the bot is in it. ``on_change`` is told what the commands' view of the club
    becomes."""

    def __init__(self, transport: MatrixTransport, db: Database, clock: Clock,
                 settings: RoomSettings, on_change: ClubChanged) -> None:
        self.transport = transport
        self.db = db
        self.clock = clock
        self.settings = settings
        self.on_change = on_change
        self.known: dict[str, KnownRoom] = {}
        self.club_rooms: dict[str, str] = {}
        self.main_room_id: str | None = None
        self._configured: dict[str, tuple[str, str]] = {}  # room id -> (role, as configured)
        self.members_work: asyncio.Task[None] | None = None
        self.tasks: list[asyncio.Task[None]] = []  # finding the configured rooms, the space
        self._synced = False  # nio knows the rooms the bot is in (the start's first sync)
        self.caught_up = asyncio.Event()  # the start's catch-up batch is handled: joins may go
        self.known_all = asyncio.Event()  # every configured room resolved or given up
        self._resolving = 0  # configured rooms still being resolved
        # configured rooms not yet settled, by role: their room id once resolved
        self._unsettled: dict[str, str | None] = {}
        self.settled = asyncio.Event()  # every configured room joined, or given up

    async def load(self, repos: Repositories) -> None:
        """The known rooms, from the database."""
        self.known = {row.room_id: KnownRoom(row.joined_at, row.last_event_id)
                      for row in await repos.rooms.all()}

    def last_events(self) -> dict[str, str]:
        """The last event seen in each room (part of the sync position)."""
        return {room_id: room.last_event_id for room_id, room in self.known.items()
                if room.last_event_id}

    def resolve(self) -> None:
        """Finds the configured rooms in the background, each on its own: a room on a server
        that never answers delays nothing but itself. Until every one is resolved or given
        up, commands in rooms not known to be the club's wait (``held``)."""
        rooms = self.settings.configured()
        self._resolving = len(rooms)
        self._unsettled = dict.fromkeys(rooms)
        if not rooms:
            self.known_all.set()
            self.settled.set()
        for role, room in rooms.items():
            self.tasks.append(asyncio.create_task(self._find(role, room), name=f"room {role}"))

    async def _find(self, role: str, room: str) -> None:
        try:
            await self._find_and_join(role, room)
        finally:
            del self._unsettled[role]
            if not self._unsettled:
                self.settled.set()

    @property
    def joining(self) -> int:
        """Configured rooms still being resolved or joined; one the bot is already in as a club
        room (its invitation accepted meanwhile) is not."""
        return sum(1 for room_id in self._unsettled.values() if room_id not in self.club_rooms)

    async def _find_and_join(self, role: str, room: str) -> None:
        """Resolves a configured room; joins it once the start has caught up (the catch-up
        may say the bot was kicked) if the bot is not in it."""
        room_id = await self._resolve(role, room)
        if room_id is not None:
            self._configured[room_id] = (role, room)
            self._unsettled[role] = room_id
            if self._synced:
                self._back_in_if_there(room_id)
        self._resolving -= 1
        if not self._resolving:
            self.known_all.set()
        if room_id is None:
            return
        await self.caught_up.wait()
        if room_id not in self.club_rooms:
            await self._join(role, room, room_id)

    async def _resolve(self, role: str, room: str) -> str | None:
        try:
            return await self.transport.resolve(room)
        except MatrixError as error:
            log.warning("cannot find the %s room %s (%s): invite the bot there", role, room,
                        error)
        except Exception:
            log.exception("cannot find the %s room %s", role, room)
        return None

    async def _join(self, role: str, room: str, room_id: str) -> None:
        """Joins a configured room the bot is not in (nor has just joined, invited)."""
        known, asked_at = room_id in self.known, self.clock.now()
        try:
            joined = await self.transport.join(room)
        except MatrixError as error:
            log.warning("cannot join the %s room %s (%s): invite the bot there", role, room,
                        error)
            return
        await self.joined(joined, known, asked_at)

    def held(self, room_id: str) -> asyncio.Event | None:
        """What a command in ``room_id`` waits for before it runs: while a configured room is
        still being resolved, a room not known to be the club's may be that room."""
        if not self._resolving or room_id in self.club_rooms:
            return None
        return self.known_all

    def found(self) -> None:
        """Once nio knows the rooms the bot is in: the configured ones found so far are the
        club's rooms (those found later, as they are); the club's space is entered in the
        background."""
        self._synced = True
        for room_id in list(self._configured):
            self._back_in_if_there(room_id)
        if self.settings.space:
            self.tasks.append(asyncio.create_task(self._enter_space(self.settings.space),
                                                  name="space"))

    def _back_in_if_there(self, room_id: str) -> None:
        if room_id in self.transport.client.rooms:
            self.back_in(room_id)

    def changed(self) -> None:
        """The club's rooms the bot is in changed: the main room (the roles) and the commands'
        view of the club follow."""
        self.main_room_id = next((room_id for room_id, role in self.club_rooms.items()
                                  if role == "main"), None)
        self.on_change(rooms={role: room_id for room_id, role in self.club_rooms.items()})

    def forget(self, room_id: str) -> None:
        """The bot is no longer in ``room_id`` (it left, was kicked or banned, or is invited
        back): its state (members, power levels, creators) and its club role are forgotten; a
        rejoin starts afresh."""
        self.transport.forget_room(room_id)
        self.known.pop(room_id, None)
        if self.club_rooms.pop(room_id, None) is not None:
            self.changed()
            log.info("no longer in the club room %s", room_id, extra={"room": room_id})

    def left(self, response: SyncResponse) -> list[str]:
        """The rooms the bot is no longer in: left, kicked or banned (a room it is back in is
        listed as joined instead), or invited to while it thought it was in them."""
        left = [room_id for room_id in response.rooms.leave if room_id not in response.rooms.join]
        return left + [room_id for room_id in response.rooms.invite if room_id in self.known]

    async def load_members(self) -> None:
        """The full member lists of the club's rooms (who is a club member), then, in the
        background, of the other rooms the bot is in (the groups' rooms, rooms to link)."""
        await self.transport.load_members(list(self.club_rooms))
        self.keep_members([room for room in self.transport.joined_room_ids()
                           if room not in self.club_rooms])

    def keep_members(self, rooms: list[str] | None = None) -> None:
        """Loads, in the background and one batch at a time, the member lists the bot knows
        only in part: ``rooms``, or the club's rooms (one joined since the start becomes known
        with the next sync)."""
        if self.members_work is not None and not self.members_work.done():
            return
        wanted = self.transport.partly_known(list(self.club_rooms) if rooms is None else rooms)
        if wanted:
            self.members_work = asyncio.create_task(self.transport.load_members(wanted),
                                                    name="members")

    async def _enter_space(self, space: str) -> None:
        """Joins the club's space, where group rooms are filed."""
        try:
            space_id = await self.transport.enter_room(space)
        except RoomUnavailable as error:
            log.warning("cannot join the club's space %s (%s): invite the bot there", space, error)
            return
        self.on_change(space=space_id)

    async def joined(self, room_id: str, known: bool, asked_at: datetime) -> None:
        """Records a join the bot has just made, unless another one recorded it meanwhile
        (``known``: the room was recorded before this join). The start's join of a configured
        room and the acceptance of the invitation to it may race: the later record would move
        the join time past commands sent in between, which would be taken for history. The join
        time is when the join was asked (``asked_at``): a command sent as soon as the join shows,
        while the bot's loop was busy elsewhere, is not history."""
        if known or room_id not in self.known:
            await self._mark_joined(room_id, asked_at)

    async def _mark_joined(self, room_id: str, at: datetime) -> None:
        """Records that the bot has just joined a room: what was said there before is history
        (a rejoin too); a configured room is a club room again."""
        async with self.db.transaction() as repos:
            row = await repos.rooms.mark_joined(room_id, at)
            last_event_id = row.last_event_id
        self.known[room_id] = KnownRoom(at, last_event_id)
        self.back_in(room_id)

    def back_in(self, room_id: str) -> None:
        """The bot is in ``room_id`` (again): a configured room is a club room."""
        configured = self._configured.get(room_id)
        if configured is not None and self.club_rooms.get(room_id) != configured[0]:
            self.club_rooms[room_id] = configured[0]
            self.changed()

    def remember(self, batch: Batch) -> None:
        """The rooms a batch joined, and its rooms' last events."""
        for room_id, joined_at in batch.joined.items():
            self.known.setdefault(room_id, KnownRoom(joined_at)).joined_at = joined_at
            self.back_in(room_id)
        for room_id, event_id in batch.last_events.items():
            if room_id in self.known:
                self.known[room_id].last_event_id = event_id

    def first_known(self, joined: dict[str, Any], now: datetime) -> dict[str, str]:
        """First start ever: every room of the sync is joined ``now``; returns their last
        events."""
        last_events = {room_id: info.timeline.events[-1].event_id
                       for room_id, info in joined.items() if info.timeline.events}
        for room_id in joined:
            self.known[room_id] = KnownRoom(now, last_events.get(room_id))
        return last_events
