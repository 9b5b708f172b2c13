"""What the web server may read and show: the club's public facts, each read in one short
read-only transaction (``Database.reading``: on SQLite it never waits for the bot's writes).

Nothing personal leaves here: no Matrix ids, no names of participants, no attendance lists;
counts are fine (places taken, members of a group)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from commands.context import Club
from commands.i18n import Translator

if TYPE_CHECKING:
    from storage.db import Database
    from storage.models import Meeting

# How far back the calendar feeds go: the events of the last months stay in the calendars.
FEED_PAST = timedelta(days=183)


@dataclass(frozen=True)
class Public:
    """The club's public facts, read from the database; ``club``: the club as it is now."""

    db: Database
    club: Callable[[], Club]
    t: Translator
    now: Callable[[], datetime]
    base_url: str  # the public address (``[web] base_url``), without a trailing slash

    async def calendar(self, *, kind: str | None = None, territories: Sequence[str] = (),
                       group_id: int | None = None) -> Sequence[Meeting]:
        """The events of a calendar feed: those of the last months and all the coming ones,
        cancelled ones included."""
        async with self.db.reading() as repos:
            return await repos.meetings.calendar(self.now() - FEED_PAST, kind=kind,
                                                 territories=territories, group_id=group_id)

    async def group_named(self, name: str) -> tuple[int, str] | None:
        """The number and name of the group an address names, by number or by its short
        name (slug)."""
        async with self.db.reading() as repos:
            group = (await repos.groups.get(int(name)) if name.isdigit() and len(name) < 10
                     else await repos.groups.by_slug(name[:64]))
            return (group.id, group.name) if group is not None else None


PUBLIC = web.AppKey("public", Public)
