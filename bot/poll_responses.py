"""Answers to native polls (MSC3381 responses) read from nio events: the sync's and those read
again from the homeserver at start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from commands.events import PollResponse
from commands.polls import native


def responses_of(room_id: str, events: Sequence[Any]) -> list[PollResponse]:
    """The poll responses among nio events (unknown to nio, so ``UnknownEvent``)."""
    found = []
    for event in events:
        if getattr(event, "type", None) in native.RESPONSE_TYPES:
            source = event.source
            response = native.read_response(
                source["event_id"], room_id, source["sender"],
                datetime_of(source["origin_server_ts"]), source.get("content", {}))
            if response is not None:
                found.append(response)
    return found


def datetime_of(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
