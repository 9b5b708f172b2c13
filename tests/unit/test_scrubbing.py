"""When the erased tables are scrubbed (``storage.scrubbing.Scrubs``): at once, then at most
once per interval, every erasure in between with the same scrub."""

from __future__ import annotations

import asyncio

from storage.scrubbing import Scrubs


class Recorded:
    def __init__(self) -> None:
        self.scrubs: list[list[str]] = []

    async def __call__(self, tables: list[str]) -> None:
        self.scrubs.append(tables)


async def test_the_first_erasure_is_scrubbed_at_once() -> None:
    recorded = Recorded()
    scrubs = Scrubs(recorded, every=60)
    await scrubs.after_erasure({"outbox", "audit"})
    assert recorded.scrubs == [["audit", "outbox"]]
    assert scrubs.pending == frozenset()


async def test_erasures_within_the_interval_share_one_scrub_when_it_ends() -> None:
    recorded = Recorded()
    scrubs = Scrubs(recorded, every=0.2)
    await scrubs.after_erasure({"audit"})
    await scrubs.after_erasure({"outbox"})
    await scrubs.after_erasure({"inbox", "outbox"})
    assert recorded.scrubs == [["audit"]]
    assert scrubs.pending == {"inbox", "outbox"}
    await asyncio.sleep(0.4)
    assert recorded.scrubs == [["audit"], ["inbox", "outbox"]]
    assert scrubs.pending == frozenset()


async def test_a_scrub_waiting_for_its_interval_is_done_at_close() -> None:
    recorded = Recorded()
    scrubs = Scrubs(recorded, every=3600)
    await scrubs.after_erasure({"audit"})
    await scrubs.after_erasure({"remontees"})
    await scrubs.close()
    assert recorded.scrubs == [["audit"], ["remontees"]]


async def test_an_erasure_after_the_interval_is_scrubbed_at_once() -> None:
    recorded = Recorded()
    scrubs = Scrubs(recorded, every=0.05)
    await scrubs.after_erasure({"audit"})
    await asyncio.sleep(0.1)
    await scrubs.after_erasure({"outbox"})
    assert recorded.scrubs == [["audit"], ["outbox"]]
