"""Every request to the homeserver has a deadline and a bounded number of tries: a server that
accepts connections and never answers, or asks the bot to wait (429, ``Retry-After``), gives
the caller a ``MatrixError`` after a few tries instead of holding it forever (real sockets on
loopback, no homeserver)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot import matrix
from bot.config import parse_settings
from bot.matrix import MatrixError, Transport

ROOM = "!room:localhost"


def make_transport(tmp_path: Path, url: str) -> Transport:
    settings = parse_settings({
        "matrix": {"homeserver": url, "user_id": "@bot:localhost", "password": "x",
                   "store_path": "store", "encryption": False,
                   "request_timeout_seconds": 5},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": ROOM},
    }, base=tmp_path, env={})
    transport = Transport(settings.matrix)
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


async def test_a_server_that_never_answers_gives_up_after_a_few_tries(
        tmp_path: Path, silent: tuple[str, list[asyncio.StreamWriter]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, connections = silent
    transport = make_transport(tmp_path, url)
    # A deadline of a fraction of a second (the config's is at least 5 s), waits as short.
    transport.deadline = 0.3
    transport.client.config = dataclasses.replace(transport.client.config, request_timeout=0.3)
    monkeypatch.setattr(matrix, "backoff", lambda attempt, *_: 0.01)
    try:
        with pytest.raises(MatrixError) as failure:
            await transport.send(ROOM, {"msgtype": "m.notice", "body": "x"}, "txn-1")
        assert not failure.value.permanent  # the outbox tries it again later
        assert len(connections) == matrix.ATTEMPTS  # a few tries, not endless ones
        with pytest.raises(MatrixError):
            await transport.join("#x:silent.example")  # one try: the caller decides
        assert len(connections) == matrix.ATTEMPTS + 1
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


@pytest.mark.parametrize(("header", "body_ms", "waited"), [
    ("1", 50, "1.0"),  # the header (seconds) wins over the body
    (None, 400, "0.4"),  # no header: the body's retry_after_ms
])
async def test_a_429_is_waited_out_as_it_asks(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                              header: str | None, body_ms: int,
                                              waited: str) -> None:
    requests: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        requests.append(request.path)
        if len(requests) == 1:
            return _limited(header, body_ms)
        return web.json_response({"event_id": "$sent"})

    runner, url = await _server(handler)
    transport = make_transport(tmp_path, url)
    caplog.set_level(logging.WARNING, "bot.matrix")
    try:
        assert await transport.send(ROOM, {"msgtype": "m.notice", "body": "x"}, "t1") == "$sent"
        assert len(requests) == 2
        assert f"retrying in {waited}s" in caplog.text
    finally:
        await transport.close()
        await runner.cleanup()


async def test_a_429_asking_for_a_long_wait_is_left_to_the_caller(tmp_path: Path) -> None:
    """Asked to wait ten minutes, the transport does not hold the caller: it raises at once
    with the wait, which the outbox honours before trying that row again."""
    requests: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        requests.append(request.path)
        return _limited("600", 600_000)

    runner, url = await _server(handler)
    transport = make_transport(tmp_path, url)
    try:
        with pytest.raises(MatrixError) as failure:
            await transport.send(ROOM, {"msgtype": "m.notice", "body": "x"}, "t1")
        assert failure.value.retry_after == 600.0 and not failure.value.permanent
        assert len(requests) == 1
    finally:
        await transport.close()
        await runner.cleanup()
