"""Answers to native polls read from nio events (the sync's, and those read again from the
homeserver at start), by the readers the capabilities declare for their event types
(``Registry.answer_events``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from commands.events import PollResponse, ReadAnswer


def responses_of(room_id: str, events: Sequence[Any],
                 readers: Mapping[str, ReadAnswer]) -> list[PollResponse]:
    """The poll responses among nio events (unknown to nio, so ``UnknownEvent``)."""
    found = []
    for event in events:
        read = readers.get(getattr(event, "type", None) or "")
        if read is not None:
            source = event.source
            response = read(source["event_id"], room_id, source["sender"],
                            datetime_of(source["origin_server_ts"]), source.get("content", {}))
            if response is not None:
                found.append(response)
    return found


def datetime_of(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
