"""Developers: writes a new Alembic migration from the difference between the models and head.

    .venv/bin/python scripts/new_migration.py "what changed"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from storage.db import Database, alembic_config


def _revision(connection: Connection, message: str, rev_id: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True, rev_id=rev_id)


VERSIONS = Path(__file__).resolve().parents[1] / "storage" / "migrations" / "versions"


async def main(message: str, rev_id: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/head.db")
        await db.upgrade()
        async with db.engine.begin() as connection:
            await connection.run_sync(_revision, message, rev_id)
        await db.dispose()


if __name__ == "__main__":
    number = f"{len(list(VERSIONS.glob('[0-9]*.py'))) + 1:04d}"
    asyncio.run(main(" ".join(sys.argv[1:]) or "schema change", number))
