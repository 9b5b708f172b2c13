"""The public pages in a real browser: the sample club (``devtools.sample_site``) on a real
SQLite database, its site served on a free loopback port (``served_site``, as
``scripts/screenshots.py`` shows it), and a headless Chromium (``devtools.browser``). Without
Chromium, Playwright or axe-core: skipped (a failure under CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import FakeClock
from devtools.browser import chromium, missing
from devtools.sample_site import served_site
from storage.db import Database
from tests.conftest import unavailable
from tests.web.conftest import clock, db

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
    async with served_site(db, clock.now) as served:
        yield served
