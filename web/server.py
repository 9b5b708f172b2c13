"""The web server: an aiohttp application (``make_app``) and its life beside the bot's
(``WebServer``: started and stopped with it, in a thread of its own; a failure to listen is
logged, never stops the bot).

Every response goes through the same middlewares:
- under ``/api``, errors in JSON (``api.json_errors``), elsewhere short French pages
  (``pages.html_errors``), the limits' below too;
- read-only: GET and HEAD only (405 otherwise), no request body (413), short addresses (414)
  without control characters (400);
- a rate limit per client address (429 with ``Retry-After``): the address the reverse proxy
  on this machine gives (``X-Forwarded-For``'s last entry) when the peer is a loopback one;
- caching: a strong ETag of the body, ``Last-Modified`` when the route gives it, and 304 to
  a client that already has it (``If-None-Match``, ``If-Modified-Since``);
- security headers: a Content-Security-Policy that allows no inline script and no framing,
  ``Referrer-Policy: no-referrer``, ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware

from web import api, feeds, pages
from web.cache import CACHE, ResponseCache
from web.public import PUBLIC, Public

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger(__name__)

ROUTES: tuple[web.RouteDef, ...] = (*feeds.ROUTES, *api.ROUTES, *pages.ROUTES)

MAX_URL = 2048  # characters of the path and query
MAX_LINE = 4096  # bytes of the request line
MAX_FIELD = 4096  # bytes of one header
MAX_HEADERS = 64
ADDRESSES_KEPT = 10_000  # rate-limit buckets kept (the least recently seen forgotten first)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "interest-cohort=(), geolocation=(), camera=(), microphone=()",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
KEPT_IN_304 = ("ETag", "Last-Modified", "Cache-Control", "Vary", "Access-Control-Allow-Origin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class WebConfig:
    """Where the server listens and how much one address may ask (0: no limit)."""

    host: str = "127.0.0.1"
    port: int = 8080
    requests_per_minute: int = 120
    burst: int = 60  # requests one address may send at once before the rate applies


class RateLimit:
    """A token bucket per client address: ``burst`` requests at once, then ``per_minute``."""

    def __init__(self, per_minute: int, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, address: str) -> float:
        """0 if ``address`` may be answered now (a token taken), else the seconds to wait."""
        now = self.clock()
        tokens, seen = self.buckets.pop(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - seen) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[address] = (tokens - 1 if tokens >= 1 else tokens, now)
        while len(self.buckets) > ADDRESSES_KEPT:
            self.buckets.popitem(last=False)
        return wait


def client_address(request: web.Request) -> str:
    """The client's address: the peer's, or, when the peer is the reverse proxy on this
    machine (a loopback address), the last address of ``X-Forwarded-For`` (the one the proxy
    saw; earlier ones are the client's own words). An IPv6 address stands for its /64: one
    subscriber holds all of it, and would otherwise have 2**64 buckets."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    proxy = _ip(peer)
    if proxy is not None and proxy.is_loopback and forwarded:
        peer = forwarded.rsplit(",", 1)[-1].strip()[:64]
    address = _ip(peer)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return peer


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@web.middleware
async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """GET and HEAD, without a body, at short addresses; anything else is refused."""
    if request.method not in ("GET", "HEAD"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
    if request.content_length or request.headers.get("Transfer-Encoding"):
        raise web.HTTPRequestEntityTooLarge(max_size=0, actual_size=request.content_length or 0)
    if len(request.raw_path) > MAX_URL:
        raise web.HTTPRequestURITooLong()
    if _CONTROL.search(request.path) or _CONTROL.search(request.query_string):
        raise web.HTTPBadRequest()  # no name holds one (and PostgreSQL refuses a NUL)
    return await handler(request)


def rate_limited(limit: RateLimit | None) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if limit is not None:
            wait = limit.wait(client_address(request))
            if wait:
                raise web.HTTPTooManyRequests(headers={"Retry-After": str(int(wait) + 1)})
        return await handler(request)

    return middleware


@web.middleware
async def conditional(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A strong ETag of every complete body; 304 to a client whose copy is still right."""
    response = await handler(request)
    if (not isinstance(response, web.Response) or response.status != 200
            or not isinstance(response.body, bytes)):
        return response
    response.etag = hashlib.sha256(response.body).hexdigest()[:32]
    response.headers.setdefault("Cache-Control", "public, max-age=300")
    if _still_fresh(request, response):
        return web.Response(status=304, headers={
            name: response.headers[name] for name in KEPT_IN_304 if name in response.headers})
    return response


def _still_fresh(request: web.Request, response: web.Response) -> bool:
    """Whether the client's copy is the response (RFC 9110 § 13.2.2: If-None-Match first)."""
    if request.headers.get("If-None-Match") is not None:
        etag = response.etag
        return etag is not None and any(
            tag.strip() in ("*", f'"{etag.value}"', f'W/"{etag.value}"')
            for tag in request.headers["If-None-Match"].split(","))
    since, modified = request.if_modified_since, response.last_modified
    return since is not None and modified is not None and modified <= since


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def make_app(public: Public, *, routes: Sequence[web.RouteDef] = ROUTES,
             limit: RateLimit | None = None) -> web.Application:
    """The application: ``routes`` behind the middlewares, reading ``public``."""
    app = web.Application(middlewares=[api.json_errors, pages.html_errors, read_only,
                                       rate_limited(limit), conditional],
                          client_max_size=1024)
    app[PUBLIC] = public
    app[CACHE] = ResponseCache()
    app.on_response_prepare.append(_security_headers)
    app.add_routes(routes)
    return app


class WebServer:
    """The application served on ``config.host``:``config.port`` while the bot runs, in a
    thread of its own with its own event loop and its own connections to the database: a
    crowd of requests queues there, never in front of the bot's commands (they share only
    the interpreter)."""

    def __init__(self, database: Callable[[], Database], public: Callable[[Database], Public],
                 config: WebConfig, routes: Sequence[web.RouteDef] = ROUTES) -> None:
        self.database = database  # opened in the server's thread, closed there
        self.public = public
        self.config = config
        self.routes = routes
        self.port: int | None = None  # the port it listens on (the system's choice for 0)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    async def start(self) -> bool:
        """Listens; ``False`` (logged) if it cannot (the port taken, the address wrong)."""
        started: Future[bool] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="web",
                                        daemon=True)
        self._thread.start()
        if not await asyncio.wrap_future(started):
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            return False
        return True

    def _run(self, started: Future[bool]) -> None:
        """The server's thread; whatever ends it, ``started`` is answered (the bot's start
        waits for it)."""
        try:
            asyncio.run(self._serve(started))
        except Exception:
            log.exception("the web server stopped")
        finally:
            if not started.done():
                started.set_result(False)

    async def _serve(self, started: Future[bool]) -> None:
        """The server's thread: serves until ``stop``; ``started`` says whether it listens."""
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        limit = (RateLimit(self.config.requests_per_minute, self.config.burst)
                 if self.config.requests_per_minute else None)
        database = self.database()
        runner = web.AppRunner(make_app(self.public(database), routes=self.routes, limit=limit),
                               access_log=None, shutdown_timeout=5, max_line_size=MAX_LINE,
                               max_field_size=MAX_FIELD, max_headers=MAX_HEADERS)
        try:
            await runner.setup()
            await web.TCPSite(runner, self.config.host, self.config.port).start()
        except Exception as error:  # the port taken, a name the resolver refuses (UnicodeError)…
            log.error("web server not started on %s:%s: %s", self.config.host,
                      self.config.port, error,
                      extra={"event_kind": "web_failed", "port": self.config.port})
            await runner.cleanup()
            await database.dispose()
            started.set_result(False)
            return
        self.port = next((int(address[1]) for address in runner.addresses), None)
        log.info("web server listening on %s:%s", self.config.host, self.port,
                 extra={"event_kind": "web_ready", "port": self.port})
        started.set_result(True)
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await database.dispose()

    async def stop(self) -> None:
        """Stops serving (the requests under way end first, 5 s at most) and waits for it."""
        thread, self._thread = self._thread, None
        if thread is None or self._loop is None or self._stop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        await asyncio.to_thread(thread.join)
