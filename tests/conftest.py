"""Shared fixtures: the real Synapse and PostgreSQL the suite runs against.

Without them the suite says so clearly and runs the rest; under ``CI=true`` a missing Synapse or
PostgreSQL is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.devserver import LocalSynapse, find_synapse_python
from devtools.postgres import database_url

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_DSN = os.environ.get("CCT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


# Folders whose files run longest (a single file of ~2 min, files of a minute that mostly
# wait on Synapse): first, so that pytest-xdist (``--dist loadfile``, which hands out files in
# the order collected) spreads the short files over the end of the run instead of leaving one
# worker alone with a long file.
LONG_FIRST = ("tests/stress/", "tests/integration/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.replace("\\", "/")
        return next((i for i, folder in enumerate(LONG_FIRST) if path.startswith(folder)),
                    len(LONG_FIRST))
    items.sort(key=rank)  # stable: the collection's order within each rank


def unavailable(what: str) -> None:
    """Fails under CI, skips (with the reason) elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: this is a failure, not a skip)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    """One real Synapse for the whole session, on a free loopback port."""
    python = find_synapse_python()
    if python is None:
        unavailable("Synapse not installed: run `bash scripts/test.sh` (it installs .venv-synapse) "
                    "or set CCT_SYNAPSE_PYTHON")
    assert python is not None
    server = LocalSynapse(tmp_path_factory.mktemp("synapse"), python=python)
    server.start()
    yield server
    server.stop()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for this test run, dropped at the end."""
    name = f"cct_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({error})")
    yield database_url(PG_ADMIN_DSN, name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path



@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated to head once for the session, which tests copy
    (``sqlite_copy``) instead of migrating their own."""
    from storage.db import Database

    path = tmp_path_factory.mktemp("migrated") / "cct.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await database.upgrade()
        finally:
            await database.dispose()

    asyncio.run(migrate())
    assert not path.with_name("cct.db-wal").exists()  # the file holds everything
    return path


def sqlite_copy(migrated: Path, target: Path) -> str:
    """The URL of a copy of the migrated database at ``target``, private as the bot makes its
    own (folder 0700, file 0600: ``storage.sqlite_file.prepare_file``)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy(migrated, target)  # with the file's mode
    return f"sqlite+aiosqlite:///{target}"
