"""A bot without a homeserver: real SQLite, fake clock, fake transport, real dispatcher."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.batch import Command
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.jobs import DeclaredJob
from bot.outbox import Outbox
from commands import build_registry
from commands.context import Club, Place, Standing
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from storage.repositories import Repositories
from tests.conftest import sqlite_copy
from tests.handlers.fakes import FakeMatrix, FakeTransport, Sent
from tests.storage.conftest import migrated_at

# Far in the future: APScheduler never runs a job of these tests by itself.
START = datetime(2099, 1, 5, 9, 0, tzinfo=UTC)
ROOM = "!club:example.org"
ALICE = "@alice:example.org"
COORDINATOR = "@claire:example.org"
CHARTER = "1. Bienveillance.\n2. Écoute."
VERSION = "9.8.7-test"


def retaining(days: int, messages_days: int = 30) -> Callable[[], Club]:
    """The club with ``[privacy] retention_days`` and ``messages_retention_days`` so (0: kept)."""
    return lambda: replace(make_club(), retention=timedelta(days=days) if days else None,
                           messages_retention=timedelta(days=messages_days) if messages_days
                           else None)


def make_club(charter: str = CHARTER) -> Club:
    return Club(name="Club Climat et Transition", prefix="!", language="fr",
                timezone="Europe/Paris", charter=charter, welcome_message="", version=VERSION)


@pytest_asyncio.fixture
async def db(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[Database]:
    """A SQLite database at head (a copy of the session's migrated one)."""
    database = Database(sqlite_copy(migrated_sqlite, tmp_path / "cct.db"))
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def both_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A sync fixture: ``postgres_url`` must be set up outside the running event loop."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest_asyncio.fixture
async def both_db(both_url: str, migrated_sqlite: Path) -> AsyncIterator[Database]:
    """The test once on SQLite and once on PostgreSQL (a module opts in by importing it as
    ``db``: see test_projects.py)."""
    await migrated_at(both_url, migrated_sqlite)
    database = Database(both_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def outbox(db: Database, transport: FakeTransport, clock: FakeClock) -> Outbox:
    return Outbox(db, transport, clock)


@pytest.fixture
def registry() -> Registry:
    return build_registry()


@dataclass
class Harness:
    """Queues commands like the sync loop does, handles them, and sends the replies."""

    db: Database
    clock: FakeClock
    transport: FakeTransport
    outbox: Outbox
    dispatcher: Dispatcher
    roles: dict[str, Role]  # everyone else is a member (participant)
    places: dict[str, Place]  # every other room is one of the club's
    _ids: itertools.count[int]
    matrix: FakeMatrix

    async def queue(self, body: str, *, sender: str = ALICE, room_id: str = ROOM,
                    event_id: str | None = None, age: timedelta = timedelta(0),
                    thread_root: str | None = None) -> str:
        """Queues the command as the sync does (``bot.recorder``): the ``Command`` it reads from
        the event, in the inbox."""
        event_id = event_id or f"$cmd{next(self._ids)}"
        received = Command(event_id, room_id, sender, body, self.clock.now() - age, thread_root)
        async with self.db.transaction() as repos:
            assert await repos.inbox.add_if_new(
                event_id=event_id, room_id=room_id, sender=sender, body=received.body,
                sent_at=received.sent_at, received_at=self.clock.now(),
                thread_root=received.thread_root)
        return event_id

    async def command(self, body: str, **kwargs: object) -> list[Sent]:
        """Handles one command end to end; returns what was sent for it."""
        before = len(self.transport.sent)
        event_id = await self.queue(body, **kwargs)  # type: ignore[arg-type]
        await self.dispatcher.handle(event_id)
        await self.outbox.flush()  # the reply; then the follow-ups (a poll's edit) and theirs
        await self.dispatcher.drain()
        await self.outbox.flush()
        return self.transport.sent[before:]

    def job(self, kind: str, club: Callable[[], Club] | None = None) -> DeclaredJob:
        """The scheduler's source of the job a capability declares, as the bot derives it
        (``bot.jobs``); ``club``: the club it sees (the dispatcher's by default)."""
        [job] = [job for job in self.dispatcher.registry.jobs if job.kind == kind]
        return DeclaredJob(job, self.db, self.outbox, self.clock,
                           club or (lambda: self.dispatcher.club), self.transport, self.matrix)

    async def reply_to(self, body: str, **kwargs: object) -> str:
        """The one reply's Markdown body."""
        sent = await self.command(body, **kwargs)
        assert len(sent) == 1, sent
        return str(sent[0].content["body"])


def offline_config(folder: Path, database_url: str) -> Path:
    """A config file for the command line (``cct-bot export``…) whose homeserver is never
    reached, private as the bot requires (it holds a password)."""
    config = folder / "config.toml"
    config.write_text(f"""
[matrix]
homeserver = "http://127.0.0.1:1"
user_id = "@bot:example.org"
password = "x"
[database]
url = "{database_url}"
[rooms]
main = "!main:example.org"
""", encoding="utf-8")
    config.chmod(0o600)
    return config


@dataclass
class FakeMembership:
    """Roles and places set by the test: everyone is a member (participant) unless given
    another role (``VISITOR``: not a member); every room is a club room unless placed."""

    roles: dict[str, Role]
    places: dict[str, Place]

    async def standing_of(self, user_id: str, room_id: str, _repos: Repositories) -> Standing:
        return Standing(self.roles.get(user_id, Role.PARTICIPANT),
                        self.places.get(room_id, Place.CLUB))

    async def is_member(self, user_id: str, _repos: Repositories) -> bool:
        return self.roles.get(user_id, Role.PARTICIPANT) > Role.VISITOR

    async def role_of(self, user_id: str) -> Role:
        return self.roles.get(user_id, Role.PARTICIPANT)


def make_harness(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
                 registry: Registry, club: Club) -> Harness:
    roles = {COORDINATOR: Role.COORDINATOR}
    places: dict[str, Place] = {}
    matrix = FakeMatrix(direct=transport.direct, files=transport.files)
    dispatcher = Dispatcher(registry, db, outbox, clock, club, FakeMembership(roles, places),
                            matrix, follow_up_delay_s=0)
    outbox.delivery.on_room_opened = dispatcher.room_opened
    outbox.on_failed = dispatcher.row_failed
    outbox.delivery.on_outcome_failed = dispatcher.outcome_failed
    return Harness(db, clock, transport, outbox, dispatcher, roles, places, itertools.count(1),
                   matrix)


@pytest.fixture
def bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
        registry: Registry) -> Harness:
    return make_harness(db, clock, transport, outbox, registry, make_club())


@pytest.fixture
def build_bot(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
              registry: Registry) -> Callable[..., Harness]:
    """``make_harness`` on this test's fixtures (its ``db``: the module's), for ``club``
    (``make_club()`` by default) with these rooms (``main="!main:…"``, ``north=…``)."""
    def build(club: Club | None = None, **rooms: str) -> Harness:
        chosen = club or make_club()
        return make_harness(db, clock, transport, outbox, registry,
                            replace(chosen, rooms=rooms) if rooms else chosen)
    return build


def plain(sent: Sent) -> str:
    """A message's body without the bold marks."""
    return str(sent.content["body"]).replace("**", "")


EFFECTS_QUEUED = ("SELECT room_id, event_type, content FROM outbox "
                  "WHERE txn_id NOT LIKE 'cct-reply-%' ORDER BY id")


async def table_snapshot(db: Database, tables: tuple[str, ...],
                         outbox_query: str = EFFECTS_QUEUED) -> str:
    """Every row of ``tables`` as text (the outbox through ``outbox_query``): what a refused
    command must leave unchanged."""
    from sqlalchemy import text

    async with db.transaction() as repos:
        parts = []
        for table in tables:
            query = outbox_query if table == "outbox" else f"SELECT * FROM {table} ORDER BY 1, 2"
            parts.append(repr((await repos.session.execute(text(query))).all()))
        return "\n".join(parts)


async def unchanged(db: Database, tables: tuple[str, ...], command: str,
                    reply: Awaitable[str]) -> str:
    """``reply`` (the answer to ``command``), which must leave ``tables`` as they were."""
    before = await table_snapshot(db, tables)
    answer = await reply
    assert await table_snapshot(db, tables) == before, f"{command!r} changed the database"
    return answer
