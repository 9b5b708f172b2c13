"""Posted files (``bot.attachments``): which ones are remembered, and their download from a
local HTTP server standing in for the media repository — the size limit holds whatever size the
server announces, a server that does not answer is given up at the deadline, an encrypted file
is decrypted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from nio import AsyncClient
from nio.crypto.attachments import encrypt_attachment

from bot.attachments import FileTooLarge, FileUnreadable, PostedFiles, download, posted_file
from bot.clock import FakeClock
from bot.config import parse_settings
from bot.matrix import MatrixTransport

NOW = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)


def file_event(content: dict[str, Any], sender: str = "@c:x", event_id: str = "$f") -> Any:
    return SimpleNamespace(source={"content": content}, sender=sender, event_id=event_id,
                           server_timestamp=NOW.timestamp() * 1000)


def test_only_csv_files_are_remembered_the_latest_of_each_person_for_a_day() -> None:
    files = PostedFiles()
    csv = {"msgtype": "m.file", "body": "feuille.csv", "url": "mxc://x/1",
           "info": {"mimetype": "text/csv", "size": 120}}
    files.seen("!r", file_event(csv))
    files.seen("!r", file_event({**csv, "body": "photo.jpg", "url": "mxc://x/2",
                                 "info": {"mimetype": "image/jpeg"}}))
    excel = {"msgtype": "m.file", "body": "Feuille 2", "info": {
        "mimetype": "application/vnd.ms-excel"}, "file": {"url": "mxc://x/3", "iv": "i"}}
    files.seen("!r", file_event(excel, sender="@d:x", event_id="$e"))
    files.seen("!r", file_event({"msgtype": "m.file", "body": "sans-lien.csv"}))
    found = files.latest("!r", "@c:x", NOW)
    assert found is not None and (found.name, found.size, found.source) == (
        "feuille.csv", 120, {"url": "mxc://x/1"})
    other = files.latest("!r", "@d:x", NOW)
    assert other is not None and other.source == {"file": {"url": "mxc://x/3", "iv": "i"}}
    assert files.latest("!other", "@c:x", NOW) is None
    assert files.latest("!r", "@c:x", NOW + timedelta(days=1, seconds=1)) is None
    assert posted_file(file_event(csv)) is not None


@pytest.fixture
async def media() -> AsyncIterator[tuple[AsyncClient, dict[str, Any]]]:
    """A client of a local server whose media are ``served`` (bytes, or a stalling answer)."""
    served: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        body = served.get(request.match_info["media"])
        if body is None:
            return web.json_response({"errcode": "M_NOT_FOUND"}, status=404)
        if body == "stall":
            await asyncio.sleep(3)  # past the deadline given below
        response = web.StreamResponse()  # chunked: no size announced
        await response.prepare(request)
        for start in range(0, len(body), 4096):
            await response.write(body[start:start + 4096])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/_matrix/client/v1/media/download/{server}/{media}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = AsyncClient(f"http://127.0.0.1:{port}", "@bot:x")
    client.access_token = "token"
    yield client, served
    await client.close()
    await runner.cleanup()


async def test_a_download_stops_at_the_limit_and_at_the_deadline(media: Any) -> None:
    client, served = media
    served["sheet"] = b"Nom;Categorie\n" * 100
    assert await download(client, {"url": "mxc://x/sheet"}, limit=1400) == served["sheet"]
    served["big"] = b"x" * 50_000
    with pytest.raises(FileTooLarge):
        await download(client, {"url": "mxc://x/big"}, limit=10_000)
    served["slow"] = "stall"
    with pytest.raises(FileUnreadable):
        await download(client, {"url": "mxc://x/slow"}, deadline_s=0.5)
    with pytest.raises(FileUnreadable):
        await download(client, {"url": "mxc://x/missing"})
    with pytest.raises(FileUnreadable):
        await download(client, {"url": "https://not-a-media"})


async def test_an_encrypted_file_is_decrypted_or_refused(media: Any) -> None:
    client, served = media
    ciphertext, keys = encrypt_attachment(b"Nom\nMarie\n")
    served["secret"] = ciphertext
    source = {"file": {**keys, "url": "mxc://x/secret"}}
    assert await download(client, source) == b"Nom\nMarie\n"
    wrong = {"file": {**keys, "url": "mxc://x/secret", "hashes": {"sha256": "AAAA"}}}
    with pytest.raises(FileUnreadable):
        await download(client, wrong)


def test_the_transport_offers_the_latest_file_by_the_bot_s_clock(tmp_path: Path) -> None:
    """The day a file is offered is counted on the injected clock, not the machine's."""
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@bot:localhost",
                   "password": "x", "store_path": "store", "encryption": False},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": "!r"},
    }, base=tmp_path, env={})
    clock = FakeClock(NOW + timedelta(hours=2))  # the machine's clock is years ahead of NOW
    transport = MatrixTransport(settings.matrix, clock)
    transport.files.seen("!r", file_event({"msgtype": "m.file", "body": "feuille.csv",
                                           "url": "mxc://x/1"}))
    found = transport.latest_file("!r", "@c:x")
    assert found is not None and found.name == "feuille.csv"
    clock.advance(timedelta(days=1))
    assert transport.latest_file("!r", "@c:x") is None
