"""The calendar feeds (RFC 5545) to subscribe to: every event of the club, a territory's
(its own and the whole club's, as ``!programme --territoire``), one kind's, one group's; and
one event's file (``/programme/<n>.ics``).
Each VEVENT is the one of the event's own ``.ics`` file (``commands.meetings.calendar``):
the same UID, its SEQUENCE bumped at each change; cancelled events stay, STATUS:CANCELLED."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from commands.meetings.calendar import feed_ics, ics_filename, meeting_ics
from commands.meetings.programme import CONCERNS
from commands.meetings.vocabulary import MEETING_TERRITORIES
from web.cache import cached
from web.public import PUBLIC, Public

if TYPE_CHECKING:
    from storage.models import Meeting

REFRESH = timedelta(hours=1)  # how often a calendar application should read a feed again
CALENDAR_TYPE = "text/calendar"

routes = web.RouteTableDef()


async def _feed(request: web.Request, name: str, **filters: object) -> web.Response:
    public = request.app[PUBLIC]
    club = public.club()
    meetings = await public.calendar(**filters)  # type: ignore[arg-type]
    # In a worker thread: the server's other requests go on meanwhile (0.2 s for 200 events).
    body = await asyncio.to_thread(feed_ics, meetings, club, public.t, club.tz, name=name,
                                   refresh=REFRESH)
    return _calendar(body, meetings)


def _calendar(body: bytes, meetings: Sequence[Meeting], **headers: str) -> web.Response:
    """A calendar's response, last modified when the latest of its ``meetings`` was."""
    response = web.Response(body=body, content_type=CALENDAR_TYPE, charset="utf-8",
                            headers={"Cache-Control": "public, max-age=900",
                                     "Access-Control-Allow-Origin": "*", **headers})
    if meetings:
        response.last_modified = max(m.updated_at for m in meetings)
    return response


def _name(public: Public, key: str, **values: object) -> str:
    return public.t(key, club=public.club().name, **values)


@routes.get("/calendrier.ics")
@cached()
async def all_events(request: web.Request) -> web.Response:
    return await _feed(request, _name(request.app[PUBLIC], "feed.all"))


@routes.get(r"/programme/{id:\d+}.ics")
@cached()
async def event(request: web.Request) -> web.Response:
    """One event's calendar file: its VEVENT in the feeds (so not an event older than they
    go back), PUBLISH, STATUS:CANCELLED once cancelled."""
    public = request.app[PUBLIC]
    raw = request.match_info["id"]
    meeting = await public.meeting(int(raw)) if len(raw) < 10 else None
    if meeting is None:
        raise web.HTTPNotFound()
    club = public.club()
    body = meeting_ics(meeting, club, public.t, club.tz, publish=True)
    disposition = f'attachment; filename="{ics_filename(meeting.id)}"'
    return _calendar(body, [meeting], **{"Content-Disposition": disposition})


@routes.get("/calendrier/territoire/{territory}.ics")
@cached()
async def territory(request: web.Request) -> web.Response:
    key = MEETING_TERRITORIES.find(request.match_info["territory"])
    if key is None:
        raise web.HTTPNotFound()
    public = request.app[PUBLIC]
    label = MEETING_TERRITORIES.label(key, public.t)
    return await _feed(request, _name(public, "feed.territory", territory=label),
                       territories=CONCERNS[key])


@routes.get("/calendrier/type/{kind}.ics")
@cached()
async def kind(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    kinds = public.club().event_kinds
    key = kinds.find(request.match_info["kind"])
    if key is None:
        raise web.HTTPNotFound()
    return await _feed(request, _name(public, "feed.kind", kind=kinds.label(key)), kind=key)


@routes.get("/calendrier/groupe/{group}.ics")
@cached()
async def group(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    found = await public.group_named(request.match_info["group"])
    if found is None:
        raise web.HTTPNotFound()
    return await _feed(request, _name(public, "feed.group", group=found[1]), group_id=found[0])


ROUTES: Sequence[web.RouteDef] = tuple(r for r in routes if isinstance(r, web.RouteDef))
