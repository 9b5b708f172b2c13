"""Every kind of command at the club's target scale, in process (no homeserver).

    .venv/bin/python -m bench.scale [--n 100] [--database-url postgresql+asyncpg://…/<empty db>]
        [--only '!stats'] [--database-url sqlite+aiosqlite:///scale.db --reuse]

Seeds 3,500 participants, 500 groups (5,000 members, 20,000 progress entries), 100 polls
(5 slots, 100 voters each), 12 rencontres, 10,000 pending reminders and the participation
ledger the bot writes for them (5,000 people this year); then, on PostgreSQL, ``VACUUM
ANALYZE``, what autovacuum does soon after a bulk load. Then, in a fresh process (the
seeding's memory does not count), starts as the bot does (runtime libraries imported, database
opened, migrations checked, the scheduler's jobs rebuilt from the database), and times each
command from parsing to reply inside its transaction, as the dispatcher runs it. Prints p50 / p99
per command (goal: every command under 20 ms p99) and the p50 of the process's CPU time per run
(what a loaded machine changes least: the wall clock also counts the waits for a processor), the
start-up time (goal: < 3 s) and the fresh process's RSS after start-up and at its peak (goal:
< 150 MB). ``--only`` times the commands starting with its text alone; ``--reuse`` measures a
database seeded before (a file kept between runs: comparing two versions of the code, runs
interleaved, on the same rows).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.projects import PARIS
from bench.projects import seed as seed_groups
from bot.clock import SystemClock
from bot.jobs import declared_jobs
from bot.scheduler import Scheduler
from commands import build_registry
from commands.context import Club, Context
from commands.dispatch import prepare, run
from commands.errors import UserError
from commands.i18n import Translator
from commands.roles import Role
from storage.db import Database
from storage.models import Meeting, Poll, PollSlot, PollVote, Reminder

NOW = datetime.now(UTC)
ROOM = "!scale:cct.example"
COORDINATOR = "@coordination:cct.example"


async def seed(db: Database, rng: random.Random) -> None:
    """The rows, with the participation ledger as the bot writes it (members, voters, users)."""
    await seed_groups(db, 500, 5000, 20000, rng)
    year = NOW.astimezone(PARIS).year
    async with db.transaction() as repos:
        for person in range(3500):
            await repos.participants.took_part([f"@p{person}:cct.example"], NOW, year)
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
                voters = [f"@p{voter}:cct.example" for voter in rng.sample(range(3500), 100)]
                session.add_all(PollVote(poll_id=number, slot_id=slot_id, user_id=voter,
                                         answer=rng.choice(["yes", "maybe", "no"]),
                                         source="text", voted_at=NOW, event_id=f"$v{voter}")
                                for voter in voters)
                await repos.participants.took_part(voters, NOW, year)
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


async def timed(db: Database, line: str, sender: str, n: int,
                cpu: list[float] | None = None) -> tuple[list[float], list[float]]:
    """Each run's time, and that of its reply's follow-ups (``Reply.then``, run after the reply
    is sent: a vote's poll edit), each in a transaction of its own as the dispatcher runs them;
    each run's CPU time of the process added to ``cpu``."""
    registry = build_registry()
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench", rooms={"main": ROOM},
                coordinators=(COORDINATOR,))
    t = Translator("fr")
    role = Role.COORDINATOR if sender == COORDINATOR else Role.PARTICIPANT
    times, follow_ups = [], []
    for index in range(n):
        start, processor = time.perf_counter(), time.process_time()
        reply = None
        try:
            async with db.transaction() as repos:
                now = datetime.now(UTC)
                ctx = Context(sender, ROOM, f"$e{index}", now, now, role, club, t, repos=repos,
                              commands=registry)
                reply = await run(await prepare(registry, line[1:], ctx), ctx)
        except UserError:
            pass
        times.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - processor) * 1000)
        for follow_up in reply.then if reply else ():
            start = time.perf_counter()
            async with db.transaction() as repos:
                await follow_up(repos)
            follow_ups.append((time.perf_counter() - start) * 1000)
    return times, follow_ups


def memory() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB. The peak is the kernel's high-water mark
    of this process's own memory (``VmHWM``): on Linux, ``ru_maxrss`` of a process started by
    another carries the parent's peak (measured: 311 MiB in a child of a 300 MiB parent, whose
    VmHWM was 11 MiB), so it is only the fallback where /proc is missing."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                      .splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


async def startup(url: str) -> tuple[Database, Scheduler, float]:
    """Opening the database, checking migrations and rebuilding every scheduled job."""
    club = Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench")
    started = time.perf_counter()
    db = Database(url)
    await db.upgrade()
    clock = SystemClock()
    jobs = build_registry().jobs  # the outbox and the homeserver are not needed to rebuild
    scheduler = Scheduler(declared_jobs(jobs, db, None, clock, lambda: club, None))  # type: ignore[arg-type]
    await scheduler.start()
    return db, scheduler, time.perf_counter() - started


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def measure(args: argparse.Namespace) -> None:
    """In the fresh process: start as the bot does, then time every command."""
    from bot.app import settle_memory  # the runtime's libraries (nio…) count in the RSS too

    db, scheduler, elapsed = await startup(args.database_url)
    settle_memory()  # a collection and a freeze (`cct-bot run` collects before its loop runs)
    print("ready", flush=True)
    rss_started, _ = memory()
    scheduler.shutdown()  # its jobs (no homeserver here) would run inside the timed commands
    print(f"start-up in process (database opened, migrations checked, scheduler rebuilt): "
          f"{elapsed:.2f} s\n")
    print("| command | p50 ms | p99 ms | CPU p50 ms |\n|---|---|---|---|")
    worst = 0.0
    for line, sender in COMMANDS:
        if not line.startswith(args.only):
            continue
        await timed(db, line, sender, 3)
        cpu: list[float] = []
        times, follow_ups = await timed(db, line, sender, args.n, cpu)
        p50, p99 = percentiles(times)
        worst = max(worst, p99)
        print(f"| `{line}` | {p50:.1f} | {p99:.1f} | {percentiles(cpu)[0]:.1f} |", flush=True)
        if follow_ups:
            p50, p99 = percentiles(follow_ups)
            print(f"| its follow-up, after the reply | {p50:.1f} | {p99:.1f} | |", flush=True)
    await db.dispose()
    _, peak = memory()
    print(f"\nworst p99: {worst:.1f} ms (goal < 20 ms)")
    print(f"RSS of the fresh process: {rss_started:.0f} MiB after start-up, peak {peak:.0f} MiB "
          f"after every command (goal < 150 MB)")


async def prepare_database(url: str, reuse: bool = False) -> None:
    db = Database(url)
    await db.upgrade()
    async with db.transaction() as repos:
        seeded = await repos.participants.get("@p0:cct.example") is not None
    if seeded:
        await db.dispose()
        if reuse:
            return
        raise SystemExit("the database is not empty: give bench.scale an empty one (or --reuse)")
    started = time.perf_counter()
    await seed(db, random.Random(5))
    await db.vacuum_analyze()
    await db.dispose()
    print(f"seeded in {time.perf_counter() - started:.0f} s ({url.split(':')[0]})")


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'scale.db'}"
        asyncio.run(prepare_database(url, args.reuse))
        launched = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "bench.scale", "--measure", "--n",
                                  str(args.n), "--database-url", url, "--only", args.only],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "ready":
                print(f"start-up, process launched → ready (imports included): "
                      f"{time.perf_counter() - launched:.2f} s")
            else:
                print(line, end="", flush=True)
        if child.wait() != 0:
            raise SystemExit(child.returncode)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--only", default="!", help="time the commands starting with this")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database --database-url names as it is, if seeded")
    parser.add_argument("--measure", action="store_true",
                        help="(internal) the fresh process: start-up, timings, RSS")
    arguments = parser.parse_args()
    if arguments.measure:
        asyncio.run(measure(arguments))
    else:
        main(arguments)
