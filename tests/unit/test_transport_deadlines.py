"""Every request to the homeserver has a deadline and is made once: a server that accepts
connections and never answers, or asks the bot to wait (429, ``Retry-After``), gives the caller
a transient ``MatrixError`` (with the wait asked) instead of holding it; trying again is the
caller's (the outbox's, for its rows). Real sockets on loopback, no homeserver."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.config import parse_settings
from bot.matrix import THREAD_ASK_S, MatrixTransport
from bot.matrix_api import MatrixError

ROOM = "!room:localhost"


def make_transport(tmp_path: Path, url: str) -> MatrixTransport:
    settings = parse_settings({
        "matrix": {"homeserver": url, "user_id": "@bot:localhost", "password": "x",
                   "store_path": "store", "encryption": False,
                   "request_timeout_seconds": 5},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": ROOM},
    }, base=tmp_path, env={})
    transport = MatrixTransport(settings.matrix)
    transport.client.restore_login("@bot:localhost", "DEVICE", "token")
    return transport


@pytest.fixture
async def silent() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A server that accepts connections and never answers."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", connections
    for writer in connections:
        writer.close()
    server.close()


async def test_a_server_that_never_answers_is_asked_once(
        tmp_path: Path, silent: tuple[str, list[asyncio.StreamWriter]]) -> None:
    url, connections = silent
    transport = make_transport(tmp_path, url)
    # A deadline of a fraction of a second (the config's is at least 5 s).
    transport.deadline = 0.3
    transport.client.config = dataclasses.replace(transport.client.config, request_timeout=0.3)
    try:
        with pytest.raises(MatrixError) as failure:
            await transport.send(ROOM, {"msgtype": "m.notice", "body": "x"}, "txn-1")
        assert not failure.value.permanent  # the outbox tries it again later
        assert len(connections) == 1  # one request: the outbox owns the tries
        with pytest.raises(MatrixError):
            await transport.join("#x:silent.example")
        assert len(connections) == 2
    finally:
        await transport.close()


async def _server(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def _limited(retry_after: str | None, retry_after_ms: int) -> web.Response:
    return web.Response(status=429, headers={"Retry-After": retry_after} if retry_after else {},
                        text=json.dumps({"errcode": "M_LIMIT_EXCEEDED", "error": "slow down",
                                         "retry_after_ms": retry_after_ms}),
                        content_type="application/json")


@pytest.mark.parametrize(("header", "body_ms", "asked"), [
    ("1", 50, 1.0),  # the header (seconds) wins over the body
    (None, 400, 0.4),  # no header: the body's retry_after_ms
    ("600", 600_000, 600.0),  # ten minutes: the caller is not held meanwhile
])
async def test_a_429_gives_the_wait_it_asks(tmp_path: Path, header: str | None, body_ms: int,
                                            asked: float) -> None:
    requests: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        requests.append(request.path)
        return _limited(header, body_ms)

    runner, url = await _server(handler)
    transport = make_transport(tmp_path, url)
    try:
        with pytest.raises(MatrixError) as failure:
            await transport.send(ROOM, {"msgtype": "m.notice", "body": "x"}, "t1")
        assert failure.value.retry_after == asked and not failure.value.permanent
        assert len(requests) == 1
    finally:
        await transport.close()
        await runner.cleanup()


async def test_a_thread_not_known_delays_a_send_a_moment_once(
        tmp_path: Path, silent: tuple[str, list[asyncio.StreamWriter]]) -> None:
    """The latest event of a thread the bot has not seen is asked of the homeserver for the
    fallback reply of a thread message: a silent homeserver holds the send ``THREAD_ASK_S`` at
    most, then the root stands in, and the thread's next sends do not ask again."""
    url, connections = silent
    transport = make_transport(tmp_path, url)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        assert await transport.thread_latest(ROOM, "$root") == "$root"
        assert loop.time() - started < THREAD_ASK_S + 0.5 <= 2.5
        started = loop.time()
        assert await transport.thread_latest(ROOM, "$root") == "$root"
        assert loop.time() - started < 0.1 and len(connections) == 1
    finally:
        await transport.close()
