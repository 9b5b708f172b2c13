"""The database refuses writes, for real: a read-only PostgreSQL database, a SQLite file on a
filesystem turned read-only, a SQLite file on a full disk. Commands get a short answer that
nothing was saved, nothing changes, and the bot recovers by itself when the fault is gone."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import asyncpg
import pytest

from bot.app import Bot
from storage.db import Database
from storage.faults import StorageUnavailable
from tests.conftest import PG_ADMIN_DSN
from tests.handlers.fakes import record_sends
from tests.handlers.test_sync_batches import NOW, ROOM, message, offline_bot, queued, sync
from tests.storage.conftest import fresh_postgres

ALICE = "@alice:localhost"


class Fault(Protocol):
    @property
    def url(self) -> str: ...

    async def prepare(self) -> None: ...
    async def start(self, db: Database) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class ReadOnlyPostgres:
    """The database turns read-only for every new session and the bot's open sessions are cut
    (as when a disk fills and the server is restarted read-only)."""

    url: str

    async def prepare(self) -> None:
        await fresh_postgres(self.url)

    async def start(self, db: Database) -> None:
        await self._set(True)

    async def stop(self) -> None:
        await self._set(False)

    async def _set(self, read_only: bool) -> None:
        name = self.url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            state = "on" if read_only else "off"
            await admin.execute(
                f'ALTER DATABASE "{name}" SET default_transaction_read_only = {state}')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        finally:
            await admin.close()


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@dataclass
class SqliteDisk:
    """The SQLite file on a small filesystem of its own (tmpfs), which the fault turns
    read-only (as the kernel does after I/O errors) or fills to the last byte."""

    folder: Path
    fill: bool

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.folder / 'cct.db'}"

    async def prepare(self) -> None:
        self.folder.mkdir()
        _mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(self.folder))

    async def start(self, db: Database) -> None:
        await db.dispose()  # SQLite checkpoints and drops its WAL: any write must allocate
        if self.fill:
            self._fill()
        else:
            _mount("-o", "remount,ro", str(self.folder))

    async def stop(self) -> None:
        if self.fill:
            (self.folder / "filler").unlink(missing_ok=True)
        else:
            _mount("-o", "remount,rw", str(self.folder))

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.folder)], check=False, capture_output=True)

    def _fill(self) -> None:
        fd = os.open(self.folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (b"x" * 65536, b"x" * 512, b"x"):  # to the last byte
                try:
                    while True:
                        os.write(fd, chunk)
                except OSError:
                    pass
        finally:
            os.close(fd)


@pytest.fixture(params=["postgres-read-only", "sqlite-read-only", "sqlite-disk-full"])
def fault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fault]:
    if request.param == "postgres-read-only":
        yield ReadOnlyPostgres(request.getfixturevalue("postgres_url"))
        return
    disk = SqliteDisk(tmp_path / "disk", fill=request.param.endswith("full"))
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.fixture
async def bot(tmp_path: Path, fault: Fault) -> AsyncIterator[Bot]:
    await fault.prepare()
    instance = await offline_bot(tmp_path, fault.url)
    instance.sent = record_sends(instance.transport)  # type: ignore[attr-defined]
    try:
        yield instance
    finally:
        await fault.stop()
        await instance.dispatcher.drain(limit_s=1)
        await instance.transport.close()
        await instance.db.dispose()


async def test_refused_writes_are_answered_change_nothing_and_recover(bot: Bot,
                                                                      fault: Fault) -> None:
    batch = sync([message("$c1", ALICE, "!projet creer Atelier vélo", NOW)], token="s2")
    await fault.start(bot.db)
    for _ in range(2):  # the sync loop retries the same batch while the database is down
        with pytest.raises(StorageUnavailable):
            await bot.handle_sync(batch)
    told = bot.sent  # type: ignore[attr-defined]
    assert len(told) == 1  # told once, not at every retry
    room, content, _ = told[0]
    assert room == ROOM and content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$c1"}}
    assert content["body"].startswith("Je ne peux rien enregistrer pour le moment")
    assert "rien n'a été modifié" in content["body"]

    await fault.stop()  # the fault is gone: the same process carries on, no restart
    await bot.handle_sync(batch)
    assert await queued(bot) == []  # the refused command is not run after all
    assert bot.sync.recorder.told_down == set()  # its batch is past: nothing left to remember
    later = sync([message("$c2", ALICE, "!projet creer Atelier vélo", NOW)], token="s3")
    tasks = await bot.handle_sync(later)
    for task in tasks:
        await task
    async with bot.db.transaction() as repos:
        group = await repos.groups.get(1)
        token = await repos.state.get("sync_token")
        assert await repos.groups.get(2) is None  # created once, by the second command only
    assert group is not None and group.name == "Atelier vélo"
    # The refused command's batch is past for good (a restart must not run it); the next
    # one, commands only, is known by the inbox: its position is saved later.
    assert token == "s2" and bot.sync.token == "s3"


async def test_commands_over_their_sender_s_rate_are_not_each_told(bot: Bot,
                                                                   fault: Fault) -> None:
    """One person sending commands in a burst while the database is down has the bot answer
    those within their rate only, never one message each: the others are recorded as over it
    once the database is back."""
    limit = bot.settings.limits.commands_per_minute
    burst = [message(f"$b{n}", ALICE, "!ping", NOW) for n in range(limit + 15)]
    await fault.start(bot.db)
    with pytest.raises(StorageUnavailable):
        await bot.handle_sync(sync(burst, token="s2"))
    assert len(bot.sent) == limit  # type: ignore[attr-defined]
    await fault.stop()
    await bot.handle_sync(sync(burst, token="s2"))  # the sync loop's retry, the database back
    # those told are never run; the others are recorded as over the rate, never run either
    assert await queued(bot) == ["handled"] * (len(burst) - limit)
    async with bot.db.reading() as repos:
        assert await repos.outbox.pending() == []  # the minute's rate notice went with the try
