"""The test users' client: what it records is what the room holds, even when a sync skips
events (a limited timeline: the homeserver gives at most 10 per room by default)."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def test_events_a_limited_sync_skipped_are_read_back_in_order(users) -> None:
    ana, bob = await users("ana"), await users("bob")
    room = await ana.create_room(name="Trou", invite=[bob.user_id])
    await bob.join(room)
    await ana.wait_membership(room, bob.user_id, "join", timeout=30)
    assert ana._task is not None
    ana._task.cancel()  # ana's client stops syncing while bob writes
    await asyncio.gather(ana._task, return_exceptions=True)
    sent = [await bob.send_text(room, f"message {n}") for n in range(30)]
    ana._task = asyncio.create_task(ana._sync_loop())
    await ana.wait_for(room, lambda e: getattr(e, "event_id", None) == sent[-1], timeout=30)
    seen = [e.event_id for e in ana.events[room]]
    assert [e for e in seen if e in set(sent)] == sent
    assert ana.sync_errors == []
