"""Key maintenance runs beside a batch's commands: replies to plain rooms do not wait for it,
replies to encrypted rooms do (a member's new device must get the room key); an event kept for
its room key is decrypted once the key is there, and not tried before."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from nio import MegolmEvent, RoomSendResponse
from nio.crypto.sessions import InboundGroupSession, OutboundGroupSession

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


async def test_an_event_kept_for_its_room_key_is_decrypted_once_the_key_is_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The events waiting for their room key are tried at every sync: while the key is
    missing, nio is not asked (it would log a warning and check the session each time);
    once it arrived, the event is decrypted."""
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@bot:localhost",
                   "password": "x", "store_path": "store"},
        "database": {"url": "sqlite+aiosqlite:///data/cct.db"},
        "club": {"charter": "x"}, "rooms": {"main": ENCRYPTED},
    }, base=tmp_path, env={})
    instance = MatrixTransport(settings.matrix)
    instance.client.restore_login("@bot:localhost", "DEVICE", "token")
    olm = instance.client.olm
    assert olm is not None
    outbound = OutboundGroupSession()
    room_key = outbound.session_key  # from the first message on
    clear = {"type": "m.room.message", "room_id": ENCRYPTED,
             "content": {"msgtype": "m.text", "body": "!ping"}}
    event = MegolmEvent.from_dict({
        "type": "m.room.encrypted", "event_id": "$late", "sender": "@ana:localhost",
        "origin_server_ts": 1, "content": {
            "algorithm": "m.megolm.v1.aes-sha2", "sender_key": "KEY", "device_id": "ANA",
            "session_id": outbound.id,
            "ciphertext": outbound._session.encrypt(json.dumps(clear).encode()).to_base64()}})
    event.room_id = ENCRYPTED
    asked: list[str] = []
    decrypt_event = instance.client.decrypt_event

    def counted(megolm: MegolmEvent) -> Any:
        asked.append(megolm.event_id)
        return decrypt_event(megolm)

    monkeypatch.setattr(instance.client, "decrypt_event", counted)
    try:
        assert [instance.decrypt(event) for _ in range(3)] == [None] * 3 and asked == []
        olm.inbound_group_store.add(InboundGroupSession(
            room_key, "SIGNING", "KEY", ENCRYPTED))
        late = instance.decrypt(event)
        assert asked == ["$late"] and late is not None and late.body == "!ping"
    finally:
        await instance.close()
