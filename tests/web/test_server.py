"""The web server's life beside the bot's, and what every response carries: read-only,
bounded, rate-limited, cached with ETag/Last-Modified, security headers."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from storage.db import Database
from tests.web.conftest import START, add_event, public_of, serve
from web.cache import CACHE, ResponseCache
from web.server import ADDRESSES_KEPT, RateLimit, WebConfig, WebServer


async def test_the_server_listens_until_stopped(both_db: Database, clock: FakeClock) -> None:
    """In its own thread, with its own event loop and database connections."""
    db = both_db
    server = WebServer(lambda: Database(db.url), lambda opened: public_of(opened, clock),
                       WebConfig(port=0))
    assert await server.start()
    port = server.port
    await add_event(db, START + timedelta(days=3), title="Atelier")  # seen by its own connection
    async with (aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/calendrier.ics") as response):
        assert response.status == 200
        assert "Atelier" in await response.text()
    await server.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/calendrier.ics")


async def test_a_port_taken_is_logged_not_raised(db: Database, clock: FakeClock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = WebServer(lambda: Database(db.url), lambda opened: public_of(opened, clock),
                           WebConfig(port=taken.getsockname()[1]))
        assert not await server.start()
    assert "web server not started" in caplog.text
    await server.stop()  # nothing to stop: no error either


async def test_security_headers_on_every_response(client: TestClient[object, object]) -> None:
    for path in ("/calendrier.ics", "/nulle-part"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert "script-src 'self'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", ["a..b", "x" * 300])
async def test_a_host_that_cannot_be_listened_on_is_logged_not_raised(
        db: Database, clock: FakeClock, host: str, caplog: pytest.LogCaptureFixture) -> None:
    """A name the resolver refuses (UnicodeError, not OSError) ended the server's thread
    before it said whether it listens: the bot's start waited for it for ever."""
    server = WebServer(lambda: Database(db.url), lambda opened: public_of(opened, clock),
                       WebConfig(host=host, port=0))
    assert not await asyncio.wait_for(server.start(), 30)
    assert "web server not started" in caplog.text
    await server.stop()


async def test_a_server_that_fails_to_begin_is_logged_not_waited_for(
        clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    def no_database() -> Database:
        raise RuntimeError("no database")

    server = WebServer(no_database, lambda opened: public_of(opened, clock), WebConfig(port=0))
    assert not await asyncio.wait_for(server.start(), 30)
    assert "the web server stopped" in caplog.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_read_only(client: TestClient[object, object], method: str) -> None:
    response = await client.request(method, "/calendrier.ics")
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD"}


async def test_head_answers_without_a_body(client: TestClient[object, object]) -> None:
    response = await client.head("/calendrier.ics")
    assert response.status == 200
    assert await response.read() == b""


async def test_bounded_requests(client: TestClient[object, object]) -> None:
    assert (await client.get("/calendrier.ics", data=b"x" * 10)).status == 413
    assert (await client.get("/calendrier.ics?q=" + "a" * 3000)).status == 414
    long_header = await client.get("/calendrier.ics", headers={"X-Long": "a" * 10_000})
    assert long_header.status in (400, 431)


async def test_etag_and_last_modified_give_304(client: TestClient[object, object],
                                               db: Database) -> None:
    await add_event(db, START + timedelta(days=3), title="Atelier")
    first = await client.get("/calendrier.ics")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = await client.get("/calendrier.ics", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag
    since = await client.get("/calendrier.ics", headers={"If-Modified-Since": modified})
    assert since.status == 304
    await add_event(db, START + timedelta(days=4), title="Autre atelier")
    changed = await client.get("/calendrier.ics", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_rate_limit_per_address(db: Database, clock: FakeClock) -> None:
    now = [0.0]
    test_client = await serve(db, clock, RateLimit(60, 3, clock=lambda: now[0]))
    try:
        statuses = [(await test_client.get("/calendrier.ics")).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await test_client.get("/calendrier.ics")
        assert refused.headers["Retry-After"] == "2"
        # Another address behind the reverse proxy on this machine has its own bucket.
        other = await test_client.get("/calendrier.ics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert other.status == 200
        now[0] += 1.0  # a token a second
        assert (await test_client.get("/calendrier.ics")).status == 200
        assert (await test_client.get("/calendrier.ics")).status == 429
    finally:
        await test_client.close()


async def test_the_rate_limit_counts_an_ipv6_network_as_one_address(db: Database,
                                                                     clock: FakeClock) -> None:
    """Each subscriber holds a whole /64: its addresses share one bucket (IPv4 ones do not)."""
    test_client = await serve(db, clock, RateLimit(60, 2, clock=lambda: 0.0))

    async def status(address: str) -> int:
        response = await test_client.get("/calendrier.ics", headers={"X-Forwarded-For": address})
        return response.status

    try:
        assert [await status(f"2001:db8:1:2::{n:x}") for n in range(1, 4)] == [200, 200, 429]
        assert await status("2001:db8:1:3::1") == 200  # the next /64: someone else
        assert [await status(f"203.0.113.{n}") for n in range(1, 4)] == [200, 200, 200]
        assert [await status("::ffff:198.51.100.7") for _ in range(3)] == [200, 200, 429]
        assert await status("::ffff:198.51.100.8") == 200  # an IPv4 address, written as IPv6
    finally:
        await test_client.close()


def test_the_rate_limit_forgets_the_least_recent_addresses() -> None:
    limit = RateLimit(60, 1, clock=lambda: 0.0)
    assert limit.wait("198.51.100.1") == 0
    assert limit.wait("198.51.100.1") == pytest.approx(1.0)
    for n in range(ADDRESSES_KEPT):
        limit.wait(f"10.0.{n // 256}.{n % 256}")
    assert len(limit.buckets) == ADDRESSES_KEPT
    assert limit.wait("198.51.100.1") == 0  # forgotten: a full bucket again


async def test_responses_are_rendered_again_only_when_something_changed(
        client: TestClient[object, object], db: Database, clock: FakeClock) -> None:
    cache = client.app[CACHE]  # type: ignore[index]
    await add_event(db, START + timedelta(days=3), title="Atelier")
    first = await (await client.get("/calendrier.ics")).read()
    assert await (await client.get("/calendrier.ics")).read() == first
    assert await (await client.get("/calendrier.ics")).read() == first
    assert cache.renders == 1
    async with db.transaction() as repos:  # a change: the feed is rendered again
        meeting = await repos.meetings.get(1)
        assert meeting is not None
        meeting.status, meeting.sequence = "annulee", 1
    changed = await (await client.get("/calendrier.ics")).read()
    assert b"STATUS:CANCELLED" in changed and cache.renders == 2
    async with db.transaction() as repos:  # someone registers: the programme's places move
        await repos.meetings.set_rsvp(1, "@marc:example.org", "present", START,
                                      tz=clock.now().astimezone().tzinfo)  # type: ignore[arg-type]
    await client.get("/calendrier.ics")
    assert cache.renders == 3
    clock.advance(timedelta(minutes=1))  # what is « coming » moves with time
    await client.get("/calendrier.ics")
    assert cache.renders == 4
    await client.get("/calendrier.ics?autre=1")  # a query the feed does not read: the same
    assert cache.renders == 4
    await client.get("/calendrier/territoire/sud.ics")  # another feed, its own response
    assert cache.renders == 5
    for query in ("?territoire=sud", "?territoire=sud&x=1", "?territoire=nord"):
        await client.get("/api/evenements" + query)
    assert cache.renders == 7


def test_the_cache_keeps_a_bounded_number_of_responses() -> None:
    from aiohttp import web

    cache = ResponseCache(entries=2)
    for key in ("/a", "/b", "/c"):
        cache.put(key, 1, web.Response(body=key.encode()))
    assert list(cache.kept) == ["/b", "/c"]
    assert cache.get("/b", 2) is None  # another version: not this response
    found = cache.get("/c", 1)
    assert found is not None and found.body == b"/c"


def test_the_cache_keeps_a_bounded_number_of_bytes() -> None:
    """Many large bodies (a whole panorama under each of ``?q=+``, ``?q=++``…): the least
    recently asked are forgotten once the bodies kept pass ``max_bytes``."""
    from aiohttp import web

    cache = ResponseCache(entries=100, max_bytes=2500)
    for n in range(5):
        cache.put(f"/initiatives?q={'+' * n}", 1, web.Response(body=bytes(1000)))
    assert list(cache.kept) == ["/initiatives?q=+++", "/initiatives?q=++++"]
    assert cache.size == 2000
    cache.put("/initiatives?q=++++", 1, web.Response(body=bytes(10)))  # kept again, smaller
    assert cache.size == 1010 and len(cache.kept) == 2
