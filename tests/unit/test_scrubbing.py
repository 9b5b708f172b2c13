"""When the erased tables are scrubbed (``storage.scrubbing.Scrubs``): at once, then at most
once per interval, every erasure in between with the same scrub."""

from __future__ import annotations

import asyncio

from storage.scrubbing import Scrubs


class Recorded:
    """A scrub that records its tables once done; it fails ``failures`` times first, and takes
    ``seconds`` (or the seconds given for a table)."""

    def __init__(self, failures: int = 0, seconds: float = 0.0,
                 taking: dict[str, float] | None = None) -> None:
        self.scrubs: list[list[str]] = []
        self.failures = failures
        self.seconds = seconds
        self.taking = taking or {}

    async def __call__(self, tables: list[str]) -> bool:
        await asyncio.sleep(max(self.taking.get(table, self.seconds) for table in tables))
        self.scrubs.append(tables)
        self.failures -= 1
        return self.failures < 0


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


async def test_a_scrub_that_could_not_be_done_is_tried_again_an_interval_later() -> None:
    recorded = Recorded(failures=1)
    scrubs = Scrubs(recorded, every=0.1)
    await scrubs.after_erasure({"audit"})
    assert scrubs.pending == {"audit"}
    await asyncio.sleep(0.3)
    assert recorded.scrubs == [["audit"], ["audit"]]
    assert scrubs.pending == frozenset()


async def test_what_is_erased_during_a_later_scrub_waits_for_the_next_one() -> None:
    recorded = Recorded(taking={"outbox": 0.2})
    scrubs = Scrubs(recorded, every=0.3)
    await scrubs.after_erasure({"audit"})  # at once
    await scrubs.after_erasure({"outbox"})  # when the interval ends, at 0.3 s, until 0.5 s
    await asyncio.sleep(0.35)
    await scrubs.after_erasure({"inbox"})  # during that scrub
    assert recorded.scrubs == [["audit"]]
    await asyncio.sleep(0.6)
    assert recorded.scrubs == [["audit"], ["outbox"], ["inbox"]]


async def test_close_waits_for_a_scrub_under_way_then_scrubs_the_rest() -> None:
    recorded = Recorded(taking={"outbox": 0.4})
    scrubs = Scrubs(recorded, every=0.1)
    await scrubs.after_erasure({"audit"})
    await scrubs.after_erasure({"outbox"})
    await asyncio.sleep(0.2)  # the later scrub of outbox is under way
    await scrubs.after_erasure({"inbox"})
    await scrubs.close()
    assert recorded.scrubs == [["audit"], ["outbox"], ["inbox"]]
    assert scrubs.pending == frozenset()
