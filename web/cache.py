"""Responses kept while what they show stays the same: a route wrapped in ``cached`` is
rendered again only when the database's fingerprint of the public facts changes
(``Public.version``), or at the next minute (what is « coming » moves with time). Rendering
the full feed of 200 events takes about 0.2 s of CPU: without this, a few clients asking for
it again and again would keep the interpreter the bot shares busy."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from web.public import PUBLIC

ENTRIES = 128  # responses kept (the least recently asked forgotten first)
MAX_BODY = 2 * 1024 * 1024  # a larger body is never kept
# bytes of the bodies kept in all: addresses that differ only by a value shown as « all »
# (``?q=+``, ``?q=++``…) each keep a whole panorama, and 128 of 2 MiB would be 256 MiB
MAX_BYTES = 32 * 1024 * 1024
KEPT_HEADERS = ("cache-control", "access-control-allow-origin", "content-disposition")
Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass(frozen=True)
class Kept:
    """A response as rendered: what it takes to make it again."""

    version: Hashable
    body: bytes
    content_type: str
    charset: str | None
    headers: tuple[tuple[str, str], ...]
    last_modified: datetime | None

    def response(self) -> web.Response:
        response = web.Response(body=self.body, content_type=self.content_type,
                                charset=self.charset, headers=dict(self.headers))
        response.last_modified = self.last_modified
        return response


class ResponseCache:
    """The kept responses by address (path and query), each with the version it shows."""

    def __init__(self, entries: int = ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.size = 0  # bytes of the bodies kept
        self.kept: OrderedDict[str, Kept] = OrderedDict()
        self.rendering = asyncio.Lock()  # one rendering at a time: the others wait, then share
        self.renders = 0  # how many responses were rendered (tests, benchmarks)

    def get(self, key: str, version: Hashable) -> web.Response | None:
        kept = self.kept.get(key)
        if kept is None or kept.version != version:
            return None
        self.kept.move_to_end(key)
        return kept.response()

    def put(self, key: str, version: Hashable, response: web.Response) -> None:
        body = response.body
        if response.status != 200 or not isinstance(body, bytes) or len(body) > MAX_BODY:
            return
        kept_headers = tuple((name, value) for name, value in response.headers.items()
                             if name.lower() in KEPT_HEADERS)
        self._forget(key)
        self.kept[key] = Kept(version, body, response.content_type, response.charset,
                              kept_headers, response.last_modified)
        self.size += len(body)
        while len(self.kept) > self.entries or self.size > self.max_bytes:
            self._forget(next(iter(self.kept)))

    def _forget(self, key: str) -> None:
        kept = self.kept.pop(key, None)
        if kept is not None:
            self.size -= len(kept.body)


CACHE = web.AppKey("cache", ResponseCache)


def cached(*params: str) -> Callable[[Handler], Handler]:
    """The route's response, kept for its path and the values of its query ``params`` (the
    others ignored: varying them renders nothing again) while the public facts stay the same."""
    return lambda handler: _cached(handler, params)


def _cached(handler: Handler, params: tuple[str, ...]) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        cache, public = request.app[CACHE], request.app[PUBLIC]
        version = (await public.version(), public.now().replace(second=0, microsecond=0))
        key = "\n".join([request.path, *(request.query.get(name, "") for name in params)])
        found = cache.get(key, version)
        if found is not None:
            return found
        async with cache.rendering:
            found = cache.get(key, version)  # rendered while this one waited
            if found is not None:
                return found
            response = await handler(request)
            cache.renders += 1
            cache.put(key, version, response)
            return response

    return answer
