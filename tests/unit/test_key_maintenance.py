"""Key maintenance runs beside a batch's commands: replies to plain rooms do not wait for it,
replies to encrypted rooms do (a member's new device must get the room key)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendResponse

from bot.config import parse_settings
from bot.matrix import MatrixTransport

PLAIN, ENCRYPTED = "!plain:localhost", "!secret:localhost"


@pytest.fixture
async def transport(tmp_path: Path) -> Any:
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@bot:localhost",
                   "password": "x", "store_path": "store", "encryption": False},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": PLAIN},
    }, base=tmp_path, env={})
    instance = MatrixTransport(settings.matrix)
    yield instance
    await instance.close()


async def test_only_encrypted_rooms_wait_for_the_key_query(
        transport: MatrixTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    query_answered = asyncio.Event()
    sent: list[str] = []

    async def keep_keys() -> None:
        await query_answered.wait()  # a keys/query round trip under way

    async def room_send(room_id: str, *_args: Any, **_kwargs: Any) -> RoomSendResponse:
        sent.append(room_id)
        return RoomSendResponse(f"$e{len(sent)}", room_id)

    monkeypatch.setattr(transport, "keep_keys", keep_keys)
    monkeypatch.setattr(transport.client, "room_send", room_send)
    monkeypatch.setattr(transport, "is_encrypted", lambda room_id: room_id == ENCRYPTED)
    transport.keep_keys_meanwhile()
    assert await transport.send(PLAIN, {"body": "a"}, "t1") == "$e1"
    secret = asyncio.create_task(transport.send(ENCRYPTED, {"body": "b"}, "t2"))
    await asyncio.sleep(0.05)
    assert sent == [PLAIN] and not secret.done()
    query_answered.set()
    assert await secret == "$e2"
    await transport.keys_kept()


async def test_a_failed_key_query_is_the_sync_loop_s_to_report(
        transport: MatrixTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    async def keep_keys() -> None:
        raise ConnectionError("homeserver gone")

    monkeypatch.setattr(transport, "keep_keys", keep_keys)
    transport.keep_keys_meanwhile()
    with pytest.raises(ConnectionError):
        await transport.keys_kept()
    await transport.keys_kept()  # reported once
