"""The JSON API (documented in docs/web.md): the programme, the groups and the panorama, the
same content as the public pages, for the PETR's website (any origin may read it: CORS).

- ``/api/evenements`` (``?type=``, ``?territoire=``), ``/api/evenements/<n>``;
- ``/api/groupes``, ``/api/groupes/<n or short name>``;
- ``/api/initiatives`` (``?q=`` words, accents aside; ``?theme=``; ``?commune=``),
  ``/api/initiatives/<n>``.
A filter the club does not know is answered 400 with what it accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from commands.meetings.vocabulary import MEETING_TERRITORIES
from commands.vocabulary import THEMES
from web.cache import cached
from web.public import PUBLIC
from web.views import EventView, GroupView, InitiativeView

routes = web.RouteTableDef()
MAX_ID = 10**9
View = EventView | GroupView | InitiativeView


# What ``json.dumps`` leaves as it is with ``ensure_ascii=False`` and should not: DEL, the C1
# controls, lone surrogates (escaped the same way as the C0 controls it escapes).
_UNESCAPED = re.compile("[\x7f-\x9f\ud800-\udfff]")


def json_text(data: Any) -> str:
    """Compact JSON, accents as they are, every control character escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _UNESCAPED.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _json(data: Any, status: int = 200) -> web.Response:
    body = json_text(data).encode()
    return web.Response(body=body, status=status, content_type="application/json",
                        charset="utf-8", headers={"Access-Control-Allow-Origin": "*",
                                                  "Cache-Control": "public, max-age=60"})


def _list(name: str, views: Sequence[View]) -> web.Response:
    return _json({name: [view.as_json() for view in views]})


def _one(view: View | None) -> web.Response:
    if view is None:
        raise web.HTTPNotFound()
    return _json(view.as_json())


def _refused(name: str, value: str, accepted: Sequence[str]) -> web.HTTPBadRequest:
    body = json_text({"erreur": f"{name} inconnu : {value[:40]}", "valeurs": list(accepted)})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _number(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or int(raw) >= MAX_ID:
        raise web.HTTPNotFound()
    return int(raw)


@routes.get("/api/evenements")
@cached("type", "territoire")
async def events(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    kinds = public.club().event_kinds
    kind = territory = None
    if raw := request.query.get("type", ""):
        kind = kinds.find(raw)
        if kind is None:
            raise _refused("type", raw, [key for key, _ in kinds.entries])
    if raw := request.query.get("territoire", ""):
        territory = MEETING_TERRITORIES.find(raw)
        if territory is None:
            raise _refused("territoire", raw, MEETING_TERRITORIES.keys)
    return _list("evenements", await public.events(kind=kind, territory=territory))


@routes.get("/api/evenements/{id}")
@cached()
async def event(request: web.Request) -> web.Response:
    return _one(await request.app[PUBLIC].event(_number(request)))


@routes.get("/api/groupes")
@cached()
async def groups(request: web.Request) -> web.Response:
    return _list("groupes", await request.app[PUBLIC].groups())


@routes.get("/api/groupes/{name}")
@cached()
async def group(request: web.Request) -> web.Response:
    return _one(await request.app[PUBLIC].group(request.match_info["name"]))


@routes.get("/api/initiatives")
@cached("q", "theme", "commune")
async def initiatives(request: web.Request) -> web.Response:
    theme = None
    if raw := request.query.get("theme", ""):
        theme = THEMES.find(raw)
        if theme is None:
            raise _refused("theme", raw, THEMES.keys)
    return _list("initiatives", await request.app[PUBLIC].initiatives(
        words=request.query.get("q", ""), theme=theme, commune=request.query.get("commune", "")))


@routes.get("/api/initiatives/{id}")
@cached()
async def initiative(request: web.Request) -> web.Response:
    return _one(await request.app[PUBLIC].initiative(_number(request)))


ROUTES: Sequence[web.RouteDef] = tuple(r for r in routes if isinstance(r, web.RouteDef))
