"""The JSON API (documented in docs/web.md): the programme, the groups and the panorama, the
same content as the public pages, for the PETR's website (any origin may read it: CORS).

- ``/api/evenements`` (``?type=``, ``?territoire=``, ``?groupe=``, ``?theme=``),
  ``/api/evenements/<n>``;
- ``/api/groupes``, ``/api/groupes/<n or short name>``;
- ``/api/initiatives`` (``?q=`` words, accents aside; ``?theme=``; ``?commune=``),
  ``/api/initiatives/<n>``.
A filter the club does not know is answered 400 with what it accepts. Every error under
``/api`` is JSON (``json_errors``): ``{"erreur": "<a short French sentence>"}``, never the
site's HTML pages."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from commands.meetings.vocabulary import MEETING_TERRITORIES
from commands.vocabulary import THEMES
from web.cache import cached
from web.public import PUBLIC, item_number
from web.views import EventView, GroupView, InitiativeView, named

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
View = EventView | GroupView | InitiativeView
T = TypeVar("T")
PREFIX = "/api"
JSON = "application/json"
# What an error under /api says, by status (a route may say more: ``_refused``, ``_one``).
ERRORS = {
    400: "Requête invalide.",
    404: "Cette adresse n'existe pas dans l'API (voir /api/evenements, /api/groupes, "
         "/api/initiatives).",
    405: "L'API se lit seulement (GET ou HEAD).",
    413: "L'API ne lit aucun corps de requête.",
    414: "Adresse trop longue.",
    429: "Trop de requêtes : réessayez dans {retry} s.",
    500: "Erreur du serveur : réessayez plus tard.",
}
KEPT_IN_ERRORS = ("Retry-After", "Allow")


# What ``json.dumps`` leaves as it is with ``ensure_ascii=False`` and should not: DEL, the C1
# controls, lone surrogates (escaped the same way as the C0 controls it escapes).
_UNESCAPED = re.compile("[\x7f-\x9f\ud800-\udfff]")


def json_text(data: Any) -> str:
    """Compact JSON, accents as they are, every control character escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _UNESCAPED.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _json(data: Any, status: int = 200, cache: str = "public, max-age=60") -> web.Response:
    body = json_text(data).encode()
    return web.Response(body=body, status=status, content_type=JSON, charset="utf-8",
                        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": cache})


def _error(status: int, message: str, **more: Any) -> web.HTTPException:
    """An error to raise (400 or 404), its body JSON: ``{"erreur": message, **more}``."""
    kind = web.HTTPBadRequest if status == 400 else web.HTTPNotFound
    return kind(text=json_text({"erreur": message, **more}),
                content_type=JSON)


def in_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under ``/api``, an error (the server's limits' too: 405, 413, 414, 429…) answered in
    JSON, readable from any origin and never kept by a cache; elsewhere, untouched."""
    if not in_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as error:
        return _error_response(error)
    except Exception:
        log.exception("web API request failed: %s", request.path[:200],
                      extra={"event_kind": "web_error"})
        return _json({"erreur": ERRORS[500]}, status=500, cache="no-store")


def _error_response(error: web.HTTPException) -> web.StreamResponse:
    if error.status < 400:
        raise error
    if error.content_type == JSON and error.text:
        data = json.loads(error.text)
    else:
        retry = error.headers.get("Retry-After", "")
        data = {"erreur": ERRORS.get(error.status, "Requête refusée.").format(retry=retry)}
    response = _json(data, status=error.status, cache="no-store")
    for name in KEPT_IN_ERRORS:
        if name in error.headers:
            response.headers[name] = error.headers[name]
    return response


def _list(name: str, views: Sequence[View]) -> web.Response:
    return _json({name: [view.as_json() for view in views]})


def _one(view: View | None, absent: str) -> web.Response:
    if view is None:
        raise _error(404, absent)
    return _json(view.as_json())


def _refused(name: str, value: str, accepted: Sequence[str]) -> web.HTTPException:
    return _error(400, f"{name} inconnu : {value[:40]}", valeurs=list(accepted))


def _number(request: web.Request, absent: str) -> int:
    number = item_number(request.match_info["id"])
    if number is None:
        raise _error(404, absent)
    return number


def _filter(request: web.Request, name: str, find: Callable[[str], T | None],
            accepted: Callable[[], Sequence[str]]) -> T | None:
    """The value the query's filter ``name`` names, ``None`` without it; 400 if unknown."""
    raw = request.query.get(name, "")
    if not raw:
        return None
    found = find(raw)
    if found is None:
        raise _refused(name, raw, accepted())
    return found


@routes.get("/api/evenements")
@cached("type", "territoire", "groupe", "theme")
async def events(request: web.Request) -> web.Response:
    """The coming programme, of a type, a territory, a group (number or short name; not an
    archived one), a theme."""
    public = request.app[PUBLIC]
    kinds = public.club().event_kinds
    kind = _filter(request, "type", kinds.find, lambda: [key for key, _ in kinds.entries])
    territory = _filter(request, "territoire", MEETING_TERRITORIES.find,
                        lambda: MEETING_TERRITORIES.keys)
    theme = _filter(request, "theme", THEMES.find, lambda: THEMES.keys)
    groups = await public.groups() if request.query.get("groupe") else []
    group = _filter(request, "groupe", lambda raw: named(groups, raw),
                    lambda: [g.slug for g in groups])
    return _list("evenements", await public.events(
        kind=kind, territory=territory, theme=theme, group_id=group.id if group else None))


@routes.get("/api/evenements/{id}")
@cached()
async def event(request: web.Request) -> web.Response:
    absent = "Cet événement n'existe pas."
    return _one(await request.app[PUBLIC].event(_number(request, absent)), absent)


@routes.get("/api/groupes")
@cached()
async def groups(request: web.Request) -> web.Response:
    return _list("groupes", await request.app[PUBLIC].groups())


@routes.get("/api/groupes/{name}")
@cached()
async def group(request: web.Request) -> web.Response:
    return _one(await request.app[PUBLIC].group(request.match_info["name"]),
                "Ce groupe-projet n'existe pas, ou plus.")


@routes.get("/api/initiatives")
@cached("q", "theme", "commune")
async def initiatives(request: web.Request) -> web.Response:
    theme = _filter(request, "theme", THEMES.find, lambda: THEMES.keys)
    return _list("initiatives", await request.app[PUBLIC].initiatives(
        words=request.query.get("q", ""), theme=theme, commune=request.query.get("commune", "")))


@routes.get("/api/initiatives/{id}")
@cached()
async def initiative(request: web.Request) -> web.Response:
    absent = "Cette initiative n'existe pas, ou plus."
    return _one(await request.app[PUBLIC].initiative(_number(request, absent)), absent)


@routes.get(PREFIX + "{rest:(/.*)?}")
async def elsewhere(request: web.Request) -> web.Response:
    """Any other address under /api (before the pages' « Page introuvable »)."""
    raise _error(404, ERRORS[404])


ROUTES: Sequence[web.RouteDef] = tuple(r for r in routes if isinstance(r, web.RouteDef))
