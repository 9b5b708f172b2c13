"""The club at its size on a Synapse, for ``bench.club_scale``: its people registered through the
admin API (shared-secret registration), its rooms created and joined (in parallel, with a
bounded concurrency), a year of talk in the club's rooms, and the bot's database seeded at the
club's size. Kept in a folder keyed by the sizes (``Sizes.key``) and reused by the next run.

``Api`` is a bare client-server API client (aiohttp, one access token): the bench's people and
its observer, lighter than nio (the observer's sync carries only the messages and memberships
it needs)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp

from bench.harness import LocalSynapse
from devtools.postgres import database_url
from storage.db import Database
from storage.models import ProjectGroup

T = TypeVar("T")
PASSWORD = "club-pw"  # every bench account's (a throwaway homeserver on loopback)
BOT = "cctbot"
ECHO = "echobot"
COORD = "coord"


@dataclass(frozen=True)
class Sizes:
    members: int = 3500  # the main room
    north: int = 1500
    south: int = 1500
    group_rooms: int = 60
    group_room_members: int = 20
    groups: int = 500  # in the bot's database (and 10,000 reminders, a year of its data)
    reminders: int = 10_000
    history: int = 1825  # messages of a year in the club's rooms (5 a day)

    @property
    def key(self) -> str:
        return (f"m{self.members}-n{self.north}-s{self.south}-g{self.group_rooms}x"
                f"{self.group_room_members}-h{self.history}")

    @property
    def db_key(self) -> str:
        return f"g{self.groups}-r{self.reminders}"


@dataclass
class Club:
    """What the populated homeserver holds: people (localpart → access token), rooms."""

    port: int
    members: dict[str, str] = field(default_factory=dict)  # localpart → token
    coord: str = ""  # its token
    bot_id: str = ""
    echo_id: str = ""
    rooms: dict[str, str] = field(default_factory=dict)  # main, north, south → room id
    group_rooms: list[str] = field(default_factory=list)
    runs: int = 0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Club | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class Api:
    """The client-server API with one access token."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session = session
        self.url = url
        self.token = token

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                      params: dict[str, str] | None = None, timeout: float = 120) -> Any:
        for attempt in range(20):
            async with self.session.request(
                    method, f"{self.url}/_matrix/client/v3/{path}", json=body, params=params,
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                answer = await response.json(content_type=None)
                if response.status == 429:
                    await asyncio.sleep(answer.get("retry_after_ms", 500) / 1000)
                    continue
                if response.status >= 400:
                    raise RuntimeError(f"{method} {path}: {response.status} {answer}")
                return answer
            await asyncio.sleep(0.1 * attempt)
        raise RuntimeError(f"{method} {path}: still rate-limited")

    async def send(self, room_id: str, body: str) -> str:
        txn = secrets.token_hex(8)
        answer = await self.request("PUT", f"rooms/{quote(room_id)}/send/m.room.message/{txn}",
                                    {"msgtype": "m.text", "body": body})
        return str(answer["event_id"])

    async def join(self, room_id: str) -> None:
        await self.request("POST", f"join/{quote(room_id)}", {})

    async def leave(self, room_id: str) -> None:
        await self.request("POST", f"rooms/{quote(room_id)}/leave", {})

    async def create_room(self, name: str) -> str:
        answer = await self.request("POST", "createRoom", {
            "name": name, "preset": "public_chat", "visibility": "private"})
        return str(answer["room_id"])


async def register(session: aiohttp.ClientSession, server: LocalSynapse, localpart: str,
                   admin: bool = False) -> tuple[str, str]:
    """Shared-secret registration (``/_synapse/admin/v1/register``): (user id, access token);
    an account that exists is logged in instead."""
    base = f"{server.url}/_synapse/admin/v1/register"
    async with session.get(base) as response:
        nonce = (await response.json())["nonce"]
    mac = hmac.new(server.registration_shared_secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce, localpart, PASSWORD):
        mac.update(part.encode() + b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    body = {"nonce": nonce, "username": localpart, "password": PASSWORD, "admin": admin,
            "mac": mac.hexdigest()}
    async with session.post(base, json=body) as response:
        answer = await response.json()
        if response.status == 200:
            return str(answer["user_id"]), str(answer["access_token"])
        if answer.get("errcode") != "M_USER_IN_USE":
            raise RuntimeError(f"registering {localpart}: {response.status} {answer}")
    async with session.post(f"{server.url}/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
            "password": PASSWORD}) as response:
        answer = await response.json()
        return str(answer["user_id"]), str(answer["access_token"])


async def bounded(jobs: Iterable[Callable[[], Awaitable[T]]], concurrency: int,
                  what: str) -> list[T]:
    """Runs the jobs, ``concurrency`` at a time, printing progress; their results in order."""
    queue = list(enumerate(jobs))
    results: dict[int, T] = {}
    started, total = time.monotonic(), len(queue)
    queue.reverse()

    async def worker() -> None:
        while queue:
            index, job = queue.pop()
            results[index] = await job()
            done = len(results)
            if done % 500 == 0 or done == total:
                print(f"  {what}: {done}/{total} ({done / (time.monotonic() - started):.0f}/s)",
                      file=sys.stderr, flush=True)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [results[index] for index in range(total)]


def member_name(index: int) -> str:
    return f"m{index:05d}"


def room_members(sizes: Sizes) -> dict[str, list[int]]:
    """Who is in which room (indexes of members): everyone in main, the first ``north`` in
    north, the next ``south`` in south (wrapping), group rooms of ``group_room_members``."""
    people = list(range(sizes.members))
    south_start = sizes.north % sizes.members
    south = [(south_start + i) % sizes.members for i in range(sizes.south)]
    rooms = {"main": people, "north": people[:sizes.north], "south": south}
    rng = random.Random(28)
    for number in range(sizes.group_rooms):
        rooms[f"group{number}"] = rng.sample(people, min(sizes.group_room_members, len(people)))
    return rooms


async def populate(server: LocalSynapse, sizes: Sizes, state: Path, concurrency: int) -> Club:
    """The club on ``server`` (running), or what a previous run left of it: missing people
    registered, rooms created, joins made, history sent; saved in ``state`` step by step."""
    club = Club.load(state) or Club(port=server.port)
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        if not club.coord:
            await found_club(session, server, club, sizes)
            club.save(state)
        missing = [member_name(i) for i in range(sizes.members)
                   if member_name(i) not in club.members]
        if missing:
            print(f"registering {len(missing)} people ...", file=sys.stderr, flush=True)
            tokens = await bounded([partial(register, session, server, name)
                                    for name in missing], concurrency, "registered")
            club.members.update({name: token for name, (_, token) in zip(missing, tokens,
                                                                             strict=True)})
            club.save(state)
        joins = room_members(sizes)
        room_ids = {**club.rooms, **{f"group{n}": room for n, room in
                                     enumerate(club.group_rooms)}}
        done = state.with_suffix(".joined")
        if not done.exists():
            await join_all(session, server.url, club, joins, room_ids, concurrency)
            done.write_text("ok")
        talked = state.with_suffix(".history")
        if not talked.exists():
            await history(session, server.url, club, sizes, joins, concurrency)
            talked.write_text("ok")
        print(f"homeserver populated in {time.monotonic() - started:.0f} s", file=sys.stderr,
              flush=True)
    return club


async def found_club(session: aiohttp.ClientSession, server: LocalSynapse, club: Club,
                     sizes: Sizes) -> None:
    """The coordinator (who creates every room), the bot and the echo bot, the rooms; the bot
    joined to all of them, the echo bot to the main room."""
    _, club.coord = await register(session, server, COORD, admin=True)
    club.bot_id, bot_token = await register(session, server, BOT)
    club.echo_id, echo_token = await register(session, server, ECHO)
    coord = Api(session, server.url, club.coord)
    for role in ("main", "north", "south"):
        club.rooms[role] = await coord.create_room(f"Club {role}")
    club.group_rooms = [await coord.create_room(f"Groupe {n}") for n in range(sizes.group_rooms)]
    bot = Api(session, server.url, bot_token)
    for room_id in [*club.rooms.values(), *club.group_rooms]:
        await bot.join(room_id)
    await Api(session, server.url, echo_token).join(club.rooms["main"])


async def join_all(session: aiohttp.ClientSession, url: str, club: Club,
                   joins: dict[str, list[int]], room_ids: dict[str, str],
                   concurrency: int) -> None:
    """Every member joins their rooms; the rooms interleaved, so that the homeserver's lock
    of each room is not the only thing the workers wait for."""
    pending = [(room, person) for room, people in joins.items() for person in people]
    random.Random(1).shuffle(pending)
    print(f"{len(pending)} joins ...", file=sys.stderr, flush=True)

    def join(room: str, person: int) -> Callable[[], Awaitable[None]]:
        return lambda: Api(session, url, club.members[member_name(person)]).join(room_ids[room])

    await bounded([join(room, person) for room, person in pending], concurrency, "joined")


async def history(session: aiohttp.ClientSession, url: str, club: Club, sizes: Sizes,
                  joins: dict[str, list[int]], concurrency: int) -> None:
    """A year of talk: ``sizes.history`` messages in the club's rooms, by their members."""
    rng = random.Random(365)
    rooms = ["main", "main", "north", "south"]
    messages = []
    for number in range(sizes.history):
        room = rng.choice(rooms)
        person = rng.choice(joins[room])
        messages.append((club.rooms[room], club.members[member_name(person)],
                         f"Message {number} de l'année du club : on avance."))
    print(f"{len(messages)} messages of history ...", file=sys.stderr, flush=True)
    await bounded([partial(Api(session, url, token).send, room, body)
                   for room, token, body in messages], concurrency, "history")


async def seed_bot_database(url: str, club: Club) -> None:
    """The bot's database at the club's size (``bench.scale``'s: 3,500 participants, 500
    groups, polls, rencontres, 10,000 pending reminders), 60 groups given the group rooms."""
    from bench.scale import seed

    db = Database(url)
    try:
        await db.upgrade()
        await seed(db, random.Random(5))
        async with db.transaction() as repos:
            for number, room_id in enumerate(club.group_rooms, start=1):
                group = await repos.session.get(ProjectGroup, number)
                if group is not None:
                    group.room_id = room_id
        await db.vacuum_analyze()
    finally:
        await db.dispose()


async def pg_admin(dsn: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def pg_exists(dsn: str, name: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                              name))
    finally:
        await connection.close()


def pg_template(folder: Path, sizes: Sizes) -> str:
    """The PostgreSQL database the bot's databases of the runs in ``folder`` are copied from."""
    name = f"cct_club_{hashlib.sha1(str(folder).encode()).hexdigest()[:8]}_{sizes.db_key}"
    return name.replace("-", "_")


async def drop_pg_template(folder: Path, sizes: Sizes, pg_dsn: str) -> None:
    await pg_admin(pg_dsn, f'DROP DATABASE IF EXISTS "{pg_template(folder, sizes)}" WITH (FORCE)')


async def bot_database(kind: str, folder: Path, sizes: Sizes, club: Club, run: str,
                       pg_dsn: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh copy of the seeded bot database for this run (seeded once per sizes and kept):
    its URL and what drops it."""
    if kind == "sqlite":
        template = folder / f"bot-{sizes.db_key}.db"
        if not template.exists():
            print("seeding the bot's database (SQLite) ...", file=sys.stderr, flush=True)
            partial = template.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            await seed_bot_database(f"sqlite+aiosqlite:///{partial}", club)
            partial.replace(template)
        copy = folder / f"run-{run}" / "cct.db"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, copy)

        async def nothing() -> None:
            return None
        return f"sqlite+aiosqlite:///{copy}", nothing
    template_name = pg_template(folder, sizes)
    if not await pg_exists(pg_dsn, template_name):
        print("seeding the bot's database (PostgreSQL) ...", file=sys.stderr, flush=True)
        building = template_name + "_partial"
        await pg_admin(pg_dsn, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        await pg_admin(pg_dsn, f'CREATE DATABASE "{building}"')
        await seed_bot_database(database_url(pg_dsn, building), club)
        await pg_admin(pg_dsn, f'ALTER DATABASE "{building}" RENAME TO "{template_name}"')
    name = f"{template_name}_run{run}"
    await pg_admin(pg_dsn, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')

    async def drop() -> None:
        await pg_admin(pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return database_url(pg_dsn, name), drop


def storm_reminders(rooms: list[str], count: int, due: datetime) -> list[dict[str, Any]]:
    """``count`` reminders for the rooms in turn, all due at ``due`` (rows for ``Reminder``)."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    return [{"kind": "room", "room_id": rooms[i % len(rooms)], "owner": f"@{COORD}:localhost",
             "text": f"tempête {i}", "due_at": due, "send_at": due, "occurrence": 0,
             "status": "pending", "offset": "", "created_at": now} for i in range(count)]
