"""The public pages, in French: the home page, the programme, the groupes-projets, the panorama
of initiatives, and a page for each event, group and initiative. The same content as the JSON
API (``web.views``, read through ``web.public``), rendered on the server by Jinja2 templates
(``web/templates``, every value escaped) with one stylesheet (``/site.css``): no script at all,
so the pages work without JavaScript and under the server's Content-Security-Policy.

Filters are GET forms; a value the club does not know shows everything (a form only offers
known ones). Nothing personal: counts only, as in the API."""

from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from commands.dates.format import format_day, format_time
from commands.meetings.calendar import feed_path, subscription_links
from commands.meetings.vocabulary import MEETING_TERRITORIES
from commands.text import fold
from commands.vocabulary import TERRITORIES, THEMES
from web.api import KEPT_IN_ERRORS, in_api
from web.cache import cached
from web.paging import page_number, paged
from web.public import FEED_PAST, MAX_WORDS, PUBLIC, Public, item_number
from web.views import EventView, GroupView, InitiativeView, named, zone_of

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
HOME_EVENTS = 5  # coming events on the home page
CSS = importlib.resources.files("web").joinpath("static/site.css").read_bytes()
HTML = "text/html"
T = TypeVar("T")
# What an error outside /api says, by status: a heading and a sentence (``html_errors``).
REFUSALS = {
    400: ("Adresse invalide", "Cette adresse contient des caractères qu'aucune page n'emploie."),
    404: ("Page introuvable", "Cette adresse ne mène à aucune page du site."),
    405: ("Lecture seule", "Ce site se lit seulement : il ne reçoit aucun envoi."),
    413: ("Requête refusée", "Ce site ne lit aucun envoi de données."),
    414: ("Adresse trop longue", "Cette adresse est trop longue pour une page du site."),
    429: ("Trop de requêtes", "Trop de requêtes depuis votre adresse : réessayez dans {retry} s."),
    500: ("Erreur du serveur", "Le site n'a pas pu répondre : réessayez plus tard."),
}


def _web_link(value: str) -> str:
    """``value`` if it is a web address (http or https), else "" (never a ``javascript:`` link)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def _when(event: EventView) -> str:
    """« jeudi 14 janvier 2027, 18h30–20h » in the club's time zone (the view's)."""
    start, end, tz = event.starts_at, event.ends_at, zone_of(event)
    day, begins, ends = format_day(start, tz=tz), format_time(start, tz=tz), format_time(end, tz=tz)
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return f"{day}, {begins}–{ends}"
    return f"{day}, {begins} – {format_day(end, tz=tz)} à {ends}"


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["web_link"] = _web_link
ENV.filters["when"] = _when
ENV.filters["iso"] = lambda value: value.isoformat() if isinstance(value, datetime) else ""


@dataclass(frozen=True)
class Feed:
    """A calendar feed to subscribe to: what it holds, its webcal:// and https:// addresses."""

    label: str
    webcal: str
    https: str


def _feed(public: Public, label: str, path: str) -> Feed:
    webcal, https = subscription_links(public.base_url, path)
    return Feed(label, webcal, https)


def _page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    public = request.app[PUBLIC]
    body = ENV.get_template(template).render(club=public.club().name, path=request.path, **values)
    # Browsers ask again each time (a 304 when nothing changed): a cancellation shows at once.
    return web.Response(
        body=body.encode(),
        status=status,
        content_type=HTML,
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@web.middleware
async def html_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outside ``/api``, an error (the server's limits' too: 405, 413, 414, 429…) answered by
    a short French page, never kept by a cache; under ``/api``, untouched (``api.json_errors``)."""
    if in_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _refusal(request, error.status, error.headers)
    except Exception:
        log.exception("web page request failed: %s", request.path[:200],
                      extra={"event_kind": "web_error"})
        return _refusal(request, 500, {})


def _refusal(request: web.Request, status: int, headers: Mapping[str, str]) -> web.Response:
    heading, what = REFUSALS.get(status, ("Requête refusée", "Le site ne peut pas y répondre."))
    response = _page(request, "refused.html", status=status, heading=heading,
                     what=what.format(retry=headers.get("Retry-After", "")))
    response.headers["Cache-Control"] = "no-store"
    for name in KEPT_IN_ERRORS:
        if name in headers:
            response.headers[name] = headers[name]
    return response


def _not_found(request: web.Request, what: str) -> web.Response:
    return _page(request, "absent.html", status=404, what=what)


async def _item(request: web.Request, read: Callable[[int], Awaitable[T | None]]) -> T | None:
    """The item the address's number names, if any."""
    number = item_number(request.match_info["id"])
    return None if number is None else await read(number)


def _choice(query: Mapping[str, str], name: str, find: Any) -> str | None:
    """The key a filter's value names, or ``None`` (absent or unknown: everything)."""
    raw = query.get(name, "")
    return find(raw) if raw else None


def _options(entries: Sequence[tuple[str, str]], chosen: str | None) -> list[dict[str, Any]]:
    return [{"value": key, "label": label, "selected": key == chosen} for key, label in entries]


@routes.get("/site.css")
async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(
        body=CSS, content_type="text/css", charset="utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


@routes.get("/")
@cached()
async def home(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    events = await public.events()
    return _page(
        request,
        "home.html",
        events=events[:HOME_EVENTS],
        more=len(events) > HOME_EVENTS,
        groups=await public.groups(),
        feed=_feed(public, "Tout le programme", feed_path()),
    )


@routes.get("/programme")
@cached("type", "territoire", "groupe", "theme", "page")
async def programme(request: web.Request) -> web.Response:
    """The coming events, filtered, a page at a time, under the headings of their months."""
    public = request.app[PUBLIC]
    query, t = request.query, public.t
    kinds = public.club().event_kinds
    kind = _choice(query, "type", kinds.find)
    territory = _choice(query, "territoire", MEETING_TERRITORIES.find)
    theme = _choice(query, "theme", THEMES.find)
    groups = await public.groups()
    group = named(groups, query.get("groupe", "")) if query.get("groupe") else None
    events = await public.events(kind=kind, territory=territory, theme=theme,
                                 group_id=group.id if group else None)
    feeds = [_feed(public, "Tout le programme", feed_path())]
    for place in dict.fromkeys(("nord", "sud", territory or "nord")):  # and the one filtered
        label = MEETING_TERRITORIES.label(place, t)
        feeds.append(_feed(public, f"Territoire {label}", feed_path(territory=place)))
    if kind is not None:
        feeds.append(_feed(public, kinds.label(kind), feed_path(kind=kind)))
    if group is not None:
        feeds.append(_feed(public, group.name, feed_path(group_id=group.id)))
    filters = {
        "type": _options(kinds.entries, kind),
        "territoire": _options(
            [(k, MEETING_TERRITORIES.label(k, t)) for k in MEETING_TERRITORIES.keys], territory
        ),
        "groupe": _options([(g.slug, g.name) for g in groups], group.slug if group else None),
        "theme": _options([(k, THEMES.label(k, t)) for k in THEMES.keys], theme),
    }
    chosen = {"type": kind, "territoire": territory, "groupe": group.slug if group else None,
              "theme": theme}
    paging = paged(events, page_number(query.get("page", "")),
                   {name: value or "" for name, value in chosen.items()})
    return _page(request, "programme.html", events=events, paging=paging, filters=filters,
                 filtered=any(chosen.values()), feeds=feeds)


@routes.get("/programme/{id}")
@cached()
async def event(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    found = await _item(request, public.event)
    if found is None:
        return _not_found(request, "Cet événement n'existe pas.")
    group = None if found.group is None else await public.group(str(found.group))
    in_feeds = found.starts_at >= public.now() - FEED_PAST  # its own .ics too
    return _page(request, "event.html", event=found, group=group, ics=in_feeds,
                 prefix=public.club().prefix)


@routes.get("/groupes")
@cached("theme", "territoire", "besoin")
async def groups(request: web.Request) -> web.Response:
    """The groups; of a theme, of a territory (and those of the whole territory), those that
    need help only (``?besoin=1``)."""
    public, query = request.app[PUBLIC], request.query
    theme = _choice(query, "theme", THEMES.find)
    territory = _choice(query, "territoire", TERRITORIES.find)
    needing = query.get("besoin", "") == "1"
    everything = await public.groups()
    shown = [g for g in everything
             if (theme is None or g.theme.key == theme)
             and (territory is None or g.territory.key in (territory, "tout"))
             and (not needing or g.needs)]  # fmt: skip
    filters = {
        "theme": _options([(k, THEMES.label(k, public.t)) for k in THEMES.keys], theme),
        "territoire": _options([(k, TERRITORIES.label(k, public.t)) for k in TERRITORIES.keys
                                if k != "tout"], territory),
    }  # fmt: skip
    return _page(request, "groups.html", groups=shown, filters=filters, needing=needing,
                 filtered=bool(theme or territory or needing), total=len(everything))  # fmt: skip


@routes.get("/groupes/{name}")
@cached()
async def group(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    found: GroupView | None = await public.group(request.match_info["name"][:64])
    if found is None:
        return _not_found(request, "Ce groupe-projet n'existe pas, ou plus.")
    events = await public.events(group_id=found.id)  # its own, not the programme's
    return _page(
        request,
        "group.html",
        group=found,
        events=events,
        feed=_feed(public, found.name, feed_path(group_id=found.id)),
    )


@routes.get("/initiatives")
@cached("q", "theme", "commune")
async def initiatives(request: web.Request) -> web.Response:
    public = request.app[PUBLIC]
    query = request.query
    words = query.get("q", "")[:MAX_WORDS]
    theme = _choice(query, "theme", THEMES.find)
    everything: list[InitiativeView] = await public.initiatives()
    towns: dict[str, str] = {}
    for item in everything:
        towns.setdefault(" ".join(fold(item.commune).split()), item.commune.strip())
    towns.pop("", None)
    commune = " ".join(fold(query.get("commune", "")[:MAX_WORDS]).split())
    commune = commune if commune in towns else ""
    found = (
        everything
        if not (words.strip() or theme or commune)
        else await public.initiatives(words=words, theme=theme, commune=commune)
    )
    filters = {
        "theme": _options([(k, THEMES.label(k, public.t)) for k in THEMES.keys], theme),
        "commune": _options(
            sorted(((towns[k], towns[k]) for k in towns), key=lambda o: fold(o[0])), towns.get(commune)
        ),
    }
    return _page(
        request,
        "initiatives.html",
        initiatives=found,
        words=words,
        filters=filters,
        filtered=bool(words.strip() or theme or commune),
        total=len(everything),
    )


@routes.get("/initiatives/{id}")
@cached()
async def initiative(request: web.Request) -> web.Response:
    found = await _item(request, request.app[PUBLIC].initiative)
    if found is None:
        return _not_found(request, "Cette initiative n'existe pas, ou plus.")
    return _page(request, "initiative.html", initiative=found)


@routes.get("/{anything:.*}")
async def elsewhere(request: web.Request) -> web.Response:
    """Any other address (this route comes last): a page saying so, and the way home."""
    return _not_found(request, "Cette adresse ne mène à aucune page du site.")


ROUTES: Sequence[web.RouteDef] = tuple(r for r in routes if isinstance(r, web.RouteDef))
