"""The club at its target size on a real Synapse: the bot's start, memory, latency in the big
room, welcomes, catch-up and a reminder storm, and its event loop's longest stall throughout.

    CCT_SYNAPSE_PYTHON=.venv-synapse/bin/python .venv/bin/python -m bench.club_scale \\
        [--db sqlite|postgres] [--keep] [--reuse] [--members 3500 --north 1500 --south 1500
        --group-rooms 60 --groups 500 --reminders 10000 --history 1825] [--n 100]

The homeserver (the suite's Synapse config, on SQLite) is populated through its admin API
(``bench/club_populate.py``: shared-secret registration, joins in parallel) in a folder keyed by
the sizes; ``--reuse`` starts from that folder when a previous run kept it (``--keep``). The
bot's database is seeded once per sizes (``bench.scale``'s rows: 3,500 participants, 500
groups, polls, rencontres, 10,000 pending reminders) and copied for each run (PostgreSQL: a
database made from a template). cct-bot runs as a process with its loop probed
(``bench/loop_probe.py``), the bare nio echo bot (``bench/echo_bot.py``, encrypted like cct-bot)
as another in the main room; an observer (a bare sync, messages and memberships only) times what arrives.

Phases: start (first answer to a ``!ping`` sent every second from launch), latency (``!ping``,
answered by both bots, and ``!projet liste``, in the main room), welcomes (one newcomer, then
``--newcomers`` joining over a minute), then the bot stopped: the homeserver's send rate
measured (one sender, one message at a time, in the main room), ``--catch-up`` commands sent
across the rooms, ``--storm`` reminders written due in the same minute; the bot restarted:
every command answered once? every reminder once, how late? Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import aiohttp

from bench import trace
from bench.club_bench import Bench
from bench.club_observer import Figures, report
from bench.club_populate import (
    Club,
    Sizes,
    bot_database,
    drop_pg_template,
    populate,
)
from bench.harness import LocalSynapse, find_synapse_python, load_average, synapse_version
from bench.loop_probe import print_stalls
from bench.mem_probe import main as print_memory

NO_PUSH = {"push": {"enabled": False}}
PG_DSN = os.environ.get("CCT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.club_scale",
                                     description=(__doc__ or "").split("\n")[0])
    default = Sizes()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                        help="the bot's database (PostgreSQL: $CCT_TEST_POSTGRES's server)")
    parser.add_argument("--members", type=int, default=default.members)
    parser.add_argument("--north", type=int, default=default.north)
    parser.add_argument("--south", type=int, default=default.south)
    parser.add_argument("--group-rooms", type=int, default=default.group_rooms)
    parser.add_argument("--group-room-members", type=int, default=default.group_room_members)
    parser.add_argument("--history", type=int, default=default.history,
                        help="messages of a year in the club's rooms")
    latency_arguments(parser)
    parser.add_argument("--newcomers", type=int, default=100)
    parser.add_argument("--catch-up", type=int, default=1000)
    parser.add_argument("--storm", type=int, default=1000)
    parser.add_argument("--rate-messages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16, help="parallel registrations/joins")
    parser.add_argument("--folder", type=Path, default=Path.home() / ".cache" / "cct-bot" /
                        "club-scale", help="where the populated homeserver is kept")
    parser.add_argument("--populate-only", action="store_true",
                        help="populate the homeserver (and keep it) without measuring")
    parser.add_argument("--push-rules", action="store_true",
                        help="measure with the homeserver's push rules on (populating: always off)")
    parser.add_argument("--memory", type=int, nargs="?", const=0, default=None, metavar="FRAMES",
                        help="dump what the bot's memory is made of at each RSS figure "
                             "(bench/mem_probe.py; with FRAMES > 0, tracemalloc too: slower)")
    parser.add_argument("--trace", metavar="DIR", type=Path,
                        help="trace both bots' syncs and sends, and cct-bot's steps from each sync "
                             "response to its reply's send, into DIR and print their medians per "
                             "command (bench/trace.py; costs a little time itself)")
    parser.add_argument("--reuse", action="store_true",
                        help="start from the homeserver a previous run kept for these sizes")
    parser.add_argument("--keep", action="store_true",
                        help="keep the populated homeserver (and this run's logs) afterwards")
    return parser.parse_args(argv)


def latency_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100, help="latency rounds measured")
    parser.add_argument("--warmup", type=int, default=10, help="latency rounds not measured, "
                        "at each start of the homeserver")
    parser.add_argument("--homeserver-starts", type=int, default=3,
                        help="the latency rounds shared out over this many starts of the "
                             "homeserver (each start draws the order in which it wakes the "
                             "bots' syncs)")


def populated(args: argparse.Namespace, sizes: Sizes, python: str, folder: Path) -> Club:
    """The club on the homeserver in ``folder``: populated now unless a previous run finished
    doing it. The homeserver computes no push rules (``push.enabled`` false): for each event,
    Synapse evaluates every member's rules, and the joins of a 3,500-member room slowed to a
    few a second (the measurement too, unless ``--push-rules``: one message a second in a room
    of 1,000 on 2 loaded cores)."""
    state = folder / "club.json"
    previous = Club.load(state)
    if previous is not None and state.with_suffix(".done").exists():
        return previous
    server = LocalSynapse(folder / "synapse", python=python,
                          port=previous.port if previous else None,
                          extra_config=NO_PUSH)
    try:
        server.start()
        club = asyncio.run(populate(server, sizes, state, args.concurrency))
    finally:
        server.stop()
    state.with_suffix(".done").write_text("ok")
    return club


async def measure(args: argparse.Namespace, sizes: Sizes, server: LocalSynapse,
                  folder: Path, club: Club) -> tuple[Figures, float, str]:
    state = folder / "club.json"
    club.runs += 1
    club.save(state)
    run = str(club.runs)
    url, drop = await bot_database(args.db, folder, sizes, club, run, PG_DSN)
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
    async with aiohttp.ClientSession() as session:
        bench = Bench(args, server, club, run, folder, session)
        bench.sizes = sizes
        started = time.monotonic()
        try:
            await bench.run(url)
        finally:
            for child in list(bench.children):
                bench.stop(child)
            await bench.observer.close()
            await drop()
        bench.stalls()
        if bench.probe.with_suffix(".jsonl.stalls").exists():
            print("\nlongest stalls, with what the loop ran:", file=sys.stderr)
            print_stalls(bench.probe.with_suffix(".jsonl.stalls"), top=3)
        if bench.memory.exists():
            print("\nthe bot's memory at each RSS figure:", file=sys.stderr)
            print_memory([str(bench.memory)])
        if args.trace:
            print("\n" + trace.report(args.trace), file=sys.stderr)
    return bench.figures, time.monotonic() - started, str(bench.work)


def heading(args: argparse.Namespace, sizes: Sizes, python: str, elapsed: float,
            load_before: str, work: str) -> str:
    """The table's header: what was measured, on what, under which load."""
    return (f"club at scale, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, Synapse "
            f"{synapse_version(python)} (SQLite, push rules "
            f"{'on' if args.push_rules else 'off'}), bot database {args.db}; {sizes.members} in "
            f"main, {sizes.north} north, {sizes.south} south, {sizes.group_rooms} group rooms "
            f"of {sizes.group_room_members}, {sizes.history} messages of history; "
            f"{os.cpu_count()} CPUs; {elapsed:.0f} s; load average {load_before} at start, "
            f"{load_average()} at end" + (f"; kept {work}" if args.keep else ""))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("nio").setLevel(logging.ERROR)
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON or create .venv-synapse", file=sys.stderr)
        return 2
    sizes = Sizes(args.members, args.north, args.south, args.group_rooms,
                  args.group_room_members, history=args.history)
    folder = (args.folder / sizes.key).resolve()
    args.keep = args.keep or args.populate_only
    if folder.exists() and not args.reuse:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    server: LocalSynapse | None = None
    try:
        club = populated(args, sizes, python, folder)
        if args.populate_only:
            print(f"populated: {folder}", file=sys.stderr)
            return 0
        server = LocalSynapse(folder / "synapse", python=python, port=club.port,
                              extra_config=None if args.push_rules else NO_PUSH)
        server.start()
        figures, elapsed, work = asyncio.run(measure(args, sizes, server, folder, club))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
            if args.db == "postgres":
                asyncio.run(drop_pg_template(folder, sizes, PG_DSN))
    header = heading(args, sizes, python, elapsed, load_before, work)
    print(report(figures, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
