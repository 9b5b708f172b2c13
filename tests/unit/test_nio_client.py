"""The sync responses ``bot.nio_client`` parses in a worker thread, as nio would."""

from __future__ import annotations

from nio import SyncError, SyncResponse

from bot import nio_client


def test_a_body_that_is_not_a_sync_response_is_a_sync_error() -> None:
    assert isinstance(nio_client.parsed_sync(b"{\"rooms\": 3}", ()), SyncError)
    assert isinstance(nio_client.parsed_sync(b"\xff not json", ()), SyncError)
    valid = b'{"next_batch": "s1", "rooms": {}}'
    assert isinstance(nio_client.parsed_sync(valid, ()), SyncResponse)
