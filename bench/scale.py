"""Every kind of command at the club's target scale, in process (no homeserver).

    .venv/bin/python -m bench.scale [--n 100] [--database-url postgresql+asyncpg://…]

Seeds 3,500 participants, 500 groups (5,000 members, 20,000 progress entries), 100 polls
(5 slots, 100 voters each), 12 rencontres and 10,000 pending reminders, then times each command
from parsing to reply inside its transaction, as the dispatcher runs it. Prints p50 / p99 per
command (goal: every command under 20 ms p99), the time to start (migrations checked, the
scheduler's jobs rebuilt from the database) and the process's peak RSS (goal: < 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.projects import seed as seed_groups
from bot.clock import SystemClock
from bot.polls import PollDeadlines, PollReminders
from bot.reminders import ReminderEngine
from bot.scheduler import Scheduler
from commands import build_registry
from commands.context import Club, Context
from commands.dispatch import prepare, run
from commands.errors import UserError
from commands.i18n import Translator
from commands.registry import Role
from storage.db import Database
from storage.models import Meeting, Poll, PollSlot, PollVote, Reminder

NOW = datetime.now(UTC)
ROOM = "!scale:cct.example"
COORDINATOR = "@coordination:cct.example"


async def seed(db: Database, rng: random.Random) -> None:
    await seed_groups(db, 500, 5000, 20000, rng)
    async with db.transaction() as repos:
        for person in range(3500):
            await repos.participants.touch(f"@p{person}:cct.example", NOW, NOW.year)
        session = repos.session
        for number in range(12):
            start = NOW + timedelta(days=30 * (number - 6))
            session.add(Meeting(starts_at=start, ends_at=start + timedelta(hours=2),
                                place="Salle", territory=rng.choice(["nord", "sud", "commun"]),
                                status="prevue" if number >= 6 else "tenue", sequence=0,
                                minutes="", cancel_reason="", rooms=f'["{ROOM}"]',
                                created_by=COORDINATOR, created_at=NOW, updated_at=NOW))
        for number in range(1, 101):
            session.add(Poll(id=number, question=f"Sondage {number}", territory="tout",
                             room_id=ROOM, status="open", created_by=COORDINATOR, created_at=NOW,
                             results_version=0))
        await session.flush()
        slot_id = 0
        for number in range(1, 101):
            for position in range(1, 6):
                slot_id += 1
                start = NOW + timedelta(days=40 + position)
                session.add(PollSlot(id=slot_id, poll_id=number, position=position,
                                     starts_at=start, ends_at=start + timedelta(hours=2)))
                session.add_all(PollVote(poll_id=number, slot_id=slot_id,
                                         user_id=f"@p{voter}:cct.example",
                                         answer=rng.choice(["yes", "maybe", "no"]),
                                         source="text", voted_at=NOW, event_id=f"$v{voter}")
                                for voter in rng.sample(range(3500), 100))
        session.add_all(Reminder(kind="personal", room_id=ROOM, owner=f"@p{i % 3500}:cct.example",
                                 text=f"rappel {i}", due_at=NOW + timedelta(days=1, minutes=i),
                                 send_at=NOW + timedelta(days=1, minutes=i), occurrence=0,
                                 status="pending", offset="", created_at=NOW)
                        for i in range(10_000))


COMMANDS = [
    ("!aide", "@p1:cct.example"), ("!projet liste", "@p1:cct.example"),
    ("!projet info 250", "@p1:cct.example"), ("!projet membres 250", "@p1:cct.example"),
    ("!mesprojets", "@p1:cct.example"), ("!initiative chercher compost", "@p1:cct.example"),
    ("!sondage resultats 50", "@p1:cct.example"), ("!sondage liste", "@p1:cct.example"),
    ("!vote 50 1+ 2? 3-", "@p2:cct.example"), ("!rencontre liste", "@p1:cct.example"),
    ("!rencontre info", "@p1:cct.example"), ("!rencontre present", "@p3:cct.example"),
    ("!odj liste", "@p1:cct.example"), ("!remontee liste", "@p1:cct.example"),
    ("!rappel liste", "@p7:cct.example"), ("!rappel dans 3 jours relancer", "@p8:cct.example"),
    ("!profil commune Guillestre", "@p9:cct.example"), ("!stats", COORDINATOR),
]


async def timed(db: Database, line: str, sender: str, n: int) -> list[float]:
    registry = build_registry()
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench", rooms={"main": ROOM},
                coordinators=(COORDINATOR,))
    t = Translator("fr")
    role = Role.COORDINATOR if sender == COORDINATOR else Role.PARTICIPANT
    times = []
    for _ in range(n):
        start = time.perf_counter()
        try:
            async with db.transaction() as repos:
                now = datetime.now(UTC)
                ctx = Context(sender, ROOM, "$e", now, now, role, club, t, repos=repos)
                await run(prepare(registry, line[1:], role), ctx)
        except UserError:
            pass
        times.append((time.perf_counter() - start) * 1000)
    return times


async def startup(url: str) -> float:
    """Opening the database, checking migrations and rebuilding every scheduled job."""
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench")
    started = time.perf_counter()
    db = Database(url)
    await db.upgrade()
    clock = SystemClock()
    scheduler = Scheduler([ReminderEngine(db, None, clock, lambda: club),  # type: ignore[arg-type]
                           PollDeadlines(db, None, clock, lambda: club),  # type: ignore[arg-type]
                           PollReminders(db, None, clock, lambda: club, None)])  # type: ignore[arg-type]
    await scheduler.start()
    elapsed = time.perf_counter() - started
    scheduler.shutdown()
    await db.dispose()
    return elapsed


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'scale.db'}"
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        await seed(db, random.Random(5))
        await db.dispose()
        print(f"seeded in {time.perf_counter() - started:.0f} s ({url.split(':')[0]})")
        print(f"start-up (database, migrations, scheduler rebuilt): {await startup(url):.2f} s\n")
        db = Database(url)
        print("| command | p50 ms | p99 ms |\n|---|---|---|")
        worst = 0.0
        for line, sender in COMMANDS:
            await timed(db, line, sender, 3)
            values = sorted(await timed(db, line, sender, args.n))
            p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
            worst = max(worst, p99)
            print(f"| `{line}` | {values[len(values) // 2]:.1f} | {p99:.1f} |")
        await db.dispose()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nworst p99: {worst:.1f} ms (goal < 20 ms); peak RSS {rss:.0f} MiB (goal < 150 MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
