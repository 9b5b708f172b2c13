"""The public pages in a real browser: the aiohttp application served on a free loopback port,
on a real SQLite database holding the sample club (``devtools.sample_site``), and a headless
Chromium. Without Chromium, Playwright or axe-core: skipped (a failure under CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.clock import FakeClock
from devtools.browser import chromium, missing
from devtools.sample_site import seed_site
from storage.db import Database
from tests.conftest import unavailable
from tests.web.conftest import clock, db, public_of
from web.server import make_app

__all__ = ["clock", "db"]


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    why = missing()
    if why is not None:
        unavailable(why)
    async with chromium() as launched:
        yield launched


@pytest_asyncio.fixture
async def site(db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The site's address (``http://127.0.0.1:<port>``) and the sample's numbers."""
    ids = await seed_site(db, clock.now())
    server = TestServer(make_app(public_of(db, clock)), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), ids
    await server.close()
