"""The responses ``bot.nio_client`` parses in a worker thread, as nio would."""

from __future__ import annotations

from nio import RoomMessagesError, RoomMessagesResponse, SyncError, SyncResponse

from bot import nio_client


def test_a_body_that_is_not_a_sync_response_is_a_sync_error() -> None:
    assert isinstance(nio_client.parsed(SyncResponse, b"{\"rooms\": 3}", ()), SyncError)
    assert isinstance(nio_client.parsed(SyncResponse, b"\xff not json", ()), SyncError)
    valid = b'{"next_batch": "s1", "rooms": {}}'
    assert isinstance(nio_client.parsed(SyncResponse, valid, ()), SyncResponse)


def test_a_page_of_history_is_parsed_with_its_room() -> None:
    body = (b'{"start": "t2", "end": "t1", "chunk": [{"type": "m.room.message", "event_id": "$a",'
            b' "sender": "@a:x", "origin_server_ts": 1, "content": {"msgtype": "m.text",'
            b' "body": "bonjour"}}]}')
    page = nio_client.parsed(RoomMessagesResponse, body, ("!r:x",))
    assert isinstance(page, RoomMessagesResponse)
    assert page.room_id == "!r:x" and page.end == "t1"
    assert [event.body for event in page.chunk] == ["bonjour"]
    assert isinstance(nio_client.parsed(RoomMessagesResponse, b"{}", ("!r:x",)), RoomMessagesError)
