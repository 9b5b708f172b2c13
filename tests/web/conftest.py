"""The web server on a real database (SQLite, or PostgreSQL for ``both_db``), served by
aiohttp's test server on a free port; a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from commands.context import Club
from commands.i18n import Translator
from storage.db import Database
from storage.models import Meeting
from tests.handlers.conftest import START, both_db, both_url, clock, db, make_club
from web.public import Public
from web.server import RateLimit, make_app

__all__ = ["START", "both_db", "both_url", "clock", "db"]
BASE_URL = "https://agenda.example.org"


def web_club() -> Club:
    return replace(make_club(), web_url=BASE_URL)


def public_of(database: Database, clock: FakeClock) -> Public:
    return Public(database, web_club, Translator("fr"), clock.now, BASE_URL)


@pytest_asyncio.fixture
async def client(db: Database, clock: FakeClock) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(make_app(public_of(db, clock)))) as test_client:
        yield test_client


async def serve(database: Database, clock: FakeClock,
                limit: RateLimit | None = None) -> TestClient[object, object]:
    """A started client of a server with ``limit`` (the caller closes it)."""
    test_client: TestClient[object, object] = TestClient(
        TestServer(make_app(public_of(database, clock), limit=limit)))
    await test_client.start_server()
    return test_client


async def add_event(database: Database, starts_at: datetime, *, hours: int = 2,
                    **details: object) -> Meeting:
    """An event (territory ``sud`` unless given), created as the bot creates them."""
    values: dict[str, object] = {"place": "", "territory": "sud", **details}
    async with database.transaction() as repos:
        return await repos.meetings.create(starts_at=starts_at,
                                           ends_at=starts_at + timedelta(hours=hours),
                                           created_by="@claire:example.org", at=START,
                                           **values)  # type: ignore[arg-type]
