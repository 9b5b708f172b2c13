"""Reminders at scale: 10,000 pending, the schedule rebuilt at start, and the delay between a
reminder's time and its message reaching the homeserver.

    .venv/bin/python -m bench.reminders [--pending 10000] [--measured 200] [--spacing-ms 250]

Part 1, in process: a SQLite database with N pending reminders; the time to rebuild the
schedule (what `cct-bot run` does at start) and the memory it allocates.
Part 2, live: a throwaway Synapse, cct-bot as a process (`python -m bot.cli run`) with the same
N pending reminders, of which M come due one every `--spacing-ms`; a listening client reads each
message's `origin_server_ts` (the homeserver's clock, the same machine's) and compares it with
the reminder's due time. Prints p50 / p99 of that delay (goal: p99 < 1 s), the bot's RSS, and
the rebuild time it logged at start (goal: < 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import Live, guarded, run_live, write_config
from bot.clock import SystemClock
from bot.jobs import DeclaredJob
from bot.scheduler import Scheduler
from commands.context import Club
from commands.reminders.jobs import REMINDERS
from storage.db import Database
from storage.models import Reminder
from tests.integration.matrix_user import MatrixUser

FAR = datetime(2031, 1, 1, tzinfo=UTC)
_TEXT = re.compile(r"^⏰ Rappel(?: \(en retard\))? de @\S+ : bench (\d+)$")


async def seed(url: str, room: str, pending: int, measured: int, first: datetime,
               spacing: timedelta) -> dict[int, datetime]:
    """``pending`` reminders, ``measured`` of them due from ``first`` on; returns their times."""
    db = Database(url)
    await db.upgrade()
    due = {i: first + i * spacing for i in range(measured)}
    now = datetime.now(UTC)
    async with db.transaction() as repos:
        repos.session.add_all(
            Reminder(kind="room", room_id=room, owner="@bench:localhost", text=f"bench {i}",
                     due_at=due.get(i, FAR + timedelta(minutes=i)),
                     send_at=due.get(i, FAR + timedelta(minutes=i)), occurrence=0,
                     status="pending", offset="", created_at=now)
            for i in range(pending))
    await db.dispose()
    return due


async def rebuild_in_process(pending: int) -> tuple[float, float]:
    """(rebuild ms, KiB allocated) for a schedule of ``pending`` reminders."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await seed(url, "!room:localhost", pending, 0, FAR, timedelta(0))
        db = Database(url)
        engine = DeclaredJob(REMINDERS, db, None, SystemClock(),  # type: ignore[arg-type]
                             lambda: Club("CCT", "!", "fr", "Europe/Paris", "", "", "bench"),
                             None)  # type: ignore[arg-type]
        scheduler = Scheduler([engine])
        tracemalloc.start()
        started = time.perf_counter()
        await scheduler.start()
        elapsed = (time.perf_counter() - started) * 1000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        scheduler.shutdown()
        await db.dispose()
        return elapsed, peak / 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def live_part(args: argparse.Namespace, live: Live) -> tuple[list[float], float, str]:
    """cct-bot as a process with the pending reminders: the measured ones' delays (ms), its
    RSS (MiB) and the rebuild time it logged."""
    server, work = live.server, live.work
    listener = await MatrixUser.create(server, "listener")
    try:
        bot_id = server.register("cctbot", "cctbot-pw")
        room = await listener.create_room(name="Bench", invite=[bot_id])
        config = work / "config.toml"
        write_config(config, {
            "matrix": {"homeserver": server.url, "user_id": bot_id, "password": "cctbot-pw",
                       "device_id": "BENCH", "store_path": str(work / "store")},
            "database": {"url": f"sqlite+aiosqlite:///{work / 'cct.db'}"},
            "club": {"allowed_inviters": [listener.user_id]},
            "rooms": {"main": room}})
        first = datetime.now(UTC) + timedelta(seconds=20)
        due = await seed(f"sqlite+aiosqlite:///{work / 'cct.db'}", room, args.pending,
                         args.measured, first, timedelta(milliseconds=args.spacing_ms))
        child = live.spawn("cct-bot", [sys.executable, "-m", "bot.cli", "run", "--config",
                                       str(config)])
        await guarded(listener.wait_membership(room, bot_id, "join", timeout=60), live.children,
                      90)
        rss = rss_mib(child.process.pid)
        spread = args.measured * args.spacing_ms / 1000
        delays = await guarded(arrivals(listener, room, due, args.measured), live.children,
                               60 + spread + 30)
        rss = max(rss, rss_mib(child.process.pid))
        logged = re.findall(r"scheduler: \d+ jobs from the database in (\d+) ms",
                            (work / "cct-bot.log").read_text())
        return delays, rss, (logged[0] + " ms") if logged else "?"
    finally:
        await listener.close()


async def arrivals(listener: MatrixUser, room: str, due: dict[int, datetime],
                   measured: int) -> list[float]:
    """Waits for the ``measured`` reminders' messages; their delays after their due times (ms,
    by the homeserver's timestamps)."""
    while True:
        delays = {}
        for event in listener.events.get(room, []):
            match = _TEXT.match(getattr(event, "body", "") or "")
            if match:
                index = int(match.group(1))
                arrived = datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)
                delays[index] = (arrived - due[index]).total_seconds() * 1000
        if len(delays) >= measured:
            return list(delays.values())
        await asyncio.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--measured", type=int, default=200)
    parser.add_argument("--spacing-ms", type=int, default=250)
    args = parser.parse_args()
    elapsed, kib = asyncio.run(rebuild_in_process(args.pending))
    print(f"in process: schedule of {args.pending} pending reminders rebuilt in {elapsed:.0f} ms "
          f"({kib:.0f} KiB allocated)")

    def measure(live: Live) -> int:
        delays, rss, logged = asyncio.run(live_part(args, live))
        print(f"live: {args.pending} pending, {args.measured} due one every {args.spacing_ms} ms")
        print("| measure | value |\n|---|---|")
        print(f"| rebuild at start (bot's log) | {logged} |")
        print(f"| delay due → homeserver p50 | {percentile(delays, 0.5):.0f} ms |")
        print(f"| delay due → homeserver p99 | {percentile(delays, 0.99):.0f} ms |")
        print(f"| delay max | {max(delays):.0f} ms |")
        print(f"| bot RSS | {rss:.0f} MiB |")
        return 0

    return run_live("reminders", measure)


if __name__ == "__main__":
    sys.exit(main())
