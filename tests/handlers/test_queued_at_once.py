"""A catch-up across many rooms: on PostgreSQL the queued commands run a few at a time, within
the database pool's connections (more would open connections beyond the pool's and close them
again); on SQLite one at a time, writes taking turns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from storage.db import POOL_SIZE
from tests.handlers.conftest import Harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)

ROOMS = 40


async def test_a_catch_up_across_many_rooms_stays_within_the_pool(bot: Harness) -> None:
    for index in range(ROOMS):
        await bot.queue("!ping", event_id=f"$c{index}", room_id=f"!r{index}:example.org")
    out, peak = [0], [0]

    def checked_out(*_: Any) -> None:
        out[0] += 1
        peak[0] = max(peak[0], out[0])

    def checked_in(*_: Any) -> None:
        out[0] -= 1

    pool = bot.db.engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    try:
        assert await bot.dispatcher.resume() == ROOMS
        await bot.dispatcher.drain()
    finally:
        event.remove(pool, "checkout", checked_out)
        event.remove(pool, "checkin", checked_in)
    await bot.outbox.flush()
    assert sorted(len(bot.transport.bodies(f"!r{index}:example.org")) for index in range(ROOMS)) \
        == [1] * ROOMS
    assert peak[0] == 1 if bot.db.is_sqlite else 1 < peak[0] < POOL_SIZE  # SQLite: one writer
