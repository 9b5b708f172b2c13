"""How many turns the event loop gave other tasks while a block ran: a task beside it counts
each of its own turns. Work done a bounded part at a time lets it count several; work done in
one go, none."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    count = 0


@contextlib.asynccontextmanager
async def counted_turns() -> AsyncIterator[Turns]:
    turns = Turns()

    async def beside() -> None:
        while True:
            turns.count += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(beside())
    await asyncio.sleep(0)
    try:
        yield turns
    finally:
        task.cancel()
