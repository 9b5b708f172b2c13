"""Tally time and memory of a big date poll (no homeserver).

    .venv/bin/python -m bench.polls [--slots 20] [--voters 3500] [--n 50] [--database-url …]

Seeds a poll with every voter answering every slot (70,000 votes by default), then times the
tally (counts, refusals, voters: what the results table and the poll message's edit need) and a
whole `!sondage resultats` through the dispatch path. Prints p50 / p99 in ms and the memory the
tally allocates (tracemalloc peak) and the process's RSS. Goal: tally under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from commands import build_registry
from commands.context import Club, Context
from commands.dispatch import prepare, run
from commands.i18n import Translator
from commands.polls import service
from commands.roles import Role
from storage.db import Database
from storage.models import PollVote

T0 = datetime(2027, 1, 4, 9, tzinfo=UTC)
ANSWERS = ("yes", "maybe", "no")


async def seed(db: Database, slots: int, voters: int, rng: random.Random) -> int:
    async with db.transaction() as repos:
        poll = await repos.polls.create(question="Prochaine rencontre ?", territory="tout",
                                        room_id="!bench:cct.example", closes_at=None,
                                        created_by="@c:cct.example", at=T0)
        ids = [(await repos.polls.add_slot(poll.id, position, T0 + timedelta(days=position),
                                           T0 + timedelta(days=position, hours=2))).id
               for position in range(1, slots + 1)]
        repos.session.add_all(
            PollVote(poll_id=poll.id, slot_id=slot_id, user_id=f"@p{voter}:cct.example",
                     answer=rng.choice(ANSWERS), source="text", voted_at=T0 + timedelta(seconds=voter),
                     event_id=f"$v{voter}")
            for voter in range(voters) for slot_id in ids)
        return poll.id


CLUB = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench")
T = Translator("fr")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        poll_id = await seed(db, args.slots, args.voters, random.Random(3))
        await db.vacuum_analyze("poll_votes")
        print(f"seeded 1 poll, {args.slots} slots, {args.voters} voters "
              f"({args.slots * args.voters} votes) in {time.perf_counter() - started:.1f} s "
              f"({url.split(':')[0]})\n")
        timings = await measure(db, poll_id, args.n)
        peak = await message_memory(db, poll_id)
        print("| measure                                   | p50 ms | p99 ms |")
        print("|-------------------------------------------|--------|--------|")
        for label, values in timings.items():
            print(f"| {label:<41} | {statistics.median(values):6.1f} | "
                  f"{percentile(values, 0.99):6.1f} |")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nmemory allocated by one poll message: {peak / 1024:.0f} KiB (tracemalloc peak); "
              f"process max RSS {rss:.0f} MiB")
        await db.dispose()


async def measure(db: Database, poll_id: int, n: int) -> dict[str, list[float]]:
    """``n`` times: the tally, the poll message, and ``!sondage resultats`` through the
    dispatch path (ms each)."""
    tally_ms, message_ms, command_ms = [], [], []
    registry = build_registry()
    for _ in range(n):
        async with db.transaction() as repos:
            poll = await repos.polls.get(poll_id)
            assert poll is not None
            start = time.perf_counter()
            await service.tally(repos, poll)
            tally_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await service.message(repos, poll, CLUB, T)
            message_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        async with db.transaction() as repos:
            now = datetime.now(UTC)
            ctx = Context("@p1:cct.example", "!bench:cct.example", "$e", now, now,
                          Role.PARTICIPANT, CLUB, T, repos=repos)
            await run(await prepare(registry, f"sondage resultats {poll_id}", ctx), ctx)
        command_ms.append((time.perf_counter() - start) * 1000)
    return {"tally (counts, refusals)": tally_ms,
            "poll message (tally + voters + render)": message_ms,
            "!sondage resultats (whole command)": command_ms}


async def message_memory(db: Database, poll_id: int) -> int:
    """The memory one poll message allocates (bytes, tracemalloc's peak)."""
    tracemalloc.start()
    async with db.transaction() as repos:
        poll = await repos.polls.get(poll_id)
        assert poll is not None
        await service.message(repos, poll, CLUB, T)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--voters", type=int, default=3500)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
