"""What the web server may read and show: the club's public facts, each read in one short
read-only transaction (``Database.reading``: on SQLite it never waits for the bot's writes).

Nothing personal leaves here: no Matrix ids, no names of participants, no attendance lists;
counts are fine (places taken, members of a group)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from commands.context import Club
from commands.i18n import Translator
from commands.meetings.programme import CONCERNS
from commands.text import fold
from commands.vocabulary import STATUSES
from web.views import (
    EventView,
    GroupView,
    InitiativeView,
    event_view,
    group_view,
    initiative_view,
)

if TYPE_CHECKING:
    from storage.db import Database
    from storage.models import Meeting, ProjectGroup
    from storage.repositories import Repositories

# How far back the calendar feeds go: the events of the last months stay in the calendars.
FEED_PAST = timedelta(days=183)
# The groups shown, in this order of their status (archived ones are not).
SHOWN_STATUSES = tuple(key for key in STATUSES.keys if key != "archive")
MAX_GROUPS = 2000
MAX_INITIATIVES = 2000
MAX_ID = 10**9  # an item's number in an address is below it
MAX_WORDS = 200  # characters of a search (``?q=``, ``?commune=``) read, the rest ignored


def item_number(raw: str) -> int | None:
    """The number an address's part writes (ASCII digits, below ``MAX_ID``), else ``None``
    (``str.isdigit`` also takes « ² », which ``int`` refuses)."""
    if raw.isascii() and raw.isdigit() and int(raw) < MAX_ID:
        return int(raw)
    return None


@dataclass(frozen=True)
class Public:
    """The club's public facts, read from the database; ``club``: the club as it is now."""

    db: Database
    club: Callable[[], Club]
    t: Translator
    now: Callable[[], datetime]
    base_url: str  # the public address (``[web] base_url``), without a trailing slash

    async def version(self) -> Hashable:
        """Changes whenever something shown changes (``web.cache``)."""
        async with self.db.reading() as repos:
            return await repos.published.version()

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
            group = await _group(repos, name)
        return (group.id, group.name) if group is not None else None

    async def events(self, *, kind: str | None = None, territory: str | None = None,
                     group_id: int | None = None, theme: str | None = None) -> list[EventView]:
        """The coming programme (as ``!programme``): planned events from now on, soonest
        first, of ``kind``, for ``territory`` (its own events and the whole club's), of the
        group ``group_id``, about ``theme``."""
        club = self.club()
        async with self.db.reading() as repos:
            found = await repos.meetings.programme(
                self.now(), kind=kind, territories=CONCERNS[territory] if territory else (),
                group_id=group_id, theme=theme)
        return [event_view(summary, club, self.t) for summary in found]

    async def event(self, event_id: int) -> EventView | None:
        """Any event, coming or past, planned, held or cancelled."""
        async with self.db.reading() as repos:
            summary = await repos.meetings.summary(event_id)
        return None if summary is None else event_view(summary, self.club(), self.t)

    async def meeting(self, event_id: int) -> Meeting | None:
        """An event of the calendar feeds (of the last months or coming, cancelled ones
        included) as stored, for its own calendar file (``web.feeds``): nothing older."""
        async with self.db.reading() as repos:
            meeting = await repos.meetings.get(event_id)
        if meeting is None or meeting.starts_at < self.now() - FEED_PAST:
            return None
        return meeting

    async def groups(self) -> list[GroupView]:
        """The groups (archived ones left out) by status, then by number, with their open
        needs and how many members they have."""
        club = self.club()
        async with self.db.reading() as repos:
            page = await repos.groups.listing(order=SHOWN_STATUSES, limit=MAX_GROUPS)
            needs = await repos.groups.open_needs_of([row.id for row in page.rows])
        return [group_view(row, row.members, needs[row.id], club, self.t, club.prefix)
                for row in page.rows]

    async def group(self, name: str) -> GroupView | None:
        """One group (by number or short name), with its description."""
        club = self.club()
        async with self.db.reading() as repos:
            group = await _group(repos, name)
            if group is None:
                return None
            members = len(await repos.groups.members(group.id))
            needs = await repos.groups.open_needs_of([group.id])
        return group_view(group, members, needs[group.id], club, self.t, club.prefix)

    async def initiatives(self, *, words: str = "", theme: str | None = None,
                          commune: str = "") -> list[InitiativeView]:
        """The panorama: those holding every word of ``words`` (accents and case aside), of
        ``theme``, in ``commune`` (accents and case aside), by theme then name; each of
        ``words`` and ``commune`` read up to ``MAX_WORDS`` characters (the API's as the pages')."""
        folded = fold(words[:MAX_WORDS]).split()
        async with self.db.reading() as repos:
            found = (await repos.initiatives.search(folded, limit=MAX_INITIATIVES) if folded
                     else await repos.initiatives.listing(limit=MAX_INITIATIVES))
        town = " ".join(fold(commune[:MAX_WORDS]).split())
        return [initiative_view(item, self.t) for item in found
                if (theme is None or item.theme == theme)
                and (not town or " ".join(fold(item.commune).split()) == town)]

    async def initiative(self, initiative_id: int) -> InitiativeView | None:
        async with self.db.reading() as repos:
            item = await repos.initiatives.get(initiative_id)
        return None if item is None else initiative_view(item, self.t)


async def _group(repos: Repositories, name: str) -> ProjectGroup | None:
    """The group ``name`` names: its number or its short name (slug); ``None`` for an archived
    one, which the site does not show."""
    number = item_number(name)
    group = (await repos.groups.get(number) if number is not None
             else await repos.groups.by_slug(name[:64]))
    return None if group is None or group.status == "archive" else group


PUBLIC = web.AppKey("public", Public)
