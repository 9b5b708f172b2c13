"""The web server under load while the bot answers commands: requests per second and latency of
each public route (the programme page, the full calendar feed, the programme's JSON), and the
bot's ``!ping`` p50 with and without that load.

    .venv/bin/python -m bench.web [--groups 500] [--events 200] [--seconds 20] [--clients 8]
                                  [--pings 60]

One run starts a throwaway Synapse and cct-bot as a separate process (``python -m bot.cli run``,
its SQLite database seeded with ``--groups`` project groups as ``bench.projects`` and ``--events``
events of every kind, some with places taken), its web server on a free port (no rate limit).
For each route, a measuring client times ``!ping`` (from just before the send to the reply
reaching it) with no web load, then while a separate process (``--load``) keeps ``--clients``
connections busy on that route for ``--seconds``. It prints, per route, the requests per second,
p50 and p99 of the requests, and the ``!ping`` p50 under that load against the one just before
without (the goal: within 1.1 ×). Compare figures only within one run: the host's load moves them."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.harness import Child, Live, guarded, load_average, run_live, synapse_version, write_config
from bench.projects import seed as seed_groups
from commands.vocabulary import THEMES
from storage.db import Database
from tests.integration.matrix_user import MatrixUser

# (label, path): the routes measured; one answered 404 is left out.
ROUTES = (("programme page", "/programme"), ("full feed", "/calendrier.ics"),
          ("south feed", "/calendrier/territoire/sud.ics"),
          ("programme JSON", "/api/evenements"), ("groups JSON", "/api/groupes"))
KINDS = ("rencontre", "territoriale", "webinaire", "echange", "formation", "porteurs",
         "accelerateur", "groupe")
PING_TIMEOUT = 60.0
PARIS = ZoneInfo("Europe/Paris")


async def seed_database(url: str, groups: int, events: int) -> None:
    """The groups (members, progress) of ``bench.projects``, a need for one group in three,
    and ``events`` coming events of every kind, one in four with places, some taken."""
    rng = random.Random(27)
    db = Database(url)
    try:
        await db.upgrade()
        await seed_groups(db, groups, groups * 10, groups * 40, rng)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        async with db.transaction() as repos:
            for group_id in range(1, groups + 1, 3):
                await repos.groups.add_need(group_id, "competence", "des bras le samedi",
                                            "@p0:cct.example", now)
            for number in range(events):
                starts = now + timedelta(days=1 + number // 3, hours=rng.randrange(0, 8))
                kind = KINDS[number % len(KINDS)]
                meeting = await repos.meetings.create(
                    starts_at=starts, ends_at=starts + timedelta(hours=2),
                    place=f"Salle {number}", territory=rng.choice(("nord", "sud", "commun")),
                    created_by="@p0:cct.example", at=now, kind=kind, title=f"Événement {number}",
                    theme=rng.choice(THEMES.keys),
                    link="https://visio.example.org/x" if kind == "webinaire" else "",
                    group_id=rng.randrange(1, groups + 1) if kind == "groupe" else None,
                    capacity=30 if number % 4 == 0 else None)
                if meeting.capacity:
                    for person in range(rng.randrange(0, 30)):
                        await repos.meetings.set_rsvp(meeting.id, f"@p{person}:cct.example",
                                                      "present", now, tz=PARIS)
    finally:
        await db.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


# --- the load, in its own process ---------------------------------------------------------------

async def load(url: str, seconds: float, clients: int) -> dict[str, Any]:
    """``clients`` connections asking ``url`` again and again for ``seconds``: how many
    answers, per second, and their latency (ms)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            start = time.monotonic()
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append((time.monotonic() - start) * 1000)

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        await asyncio.gather(*(worker(session) for _ in range(clients)))
    elapsed = time.monotonic() - started
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "errors": errors,
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}


# --- the run -----------------------------------------------------------------------------------

async def ping_p50(user: MatrixUser, room: str, count: int) -> float:
    """The median time (ms) from sending ``!ping`` to its reply reaching the client."""
    times = []
    for _ in range(count):
        start = time.monotonic()
        event_id = await user.send_text(room, "!ping")
        await user.wait_for_reply(room, event_id, timeout=PING_TIMEOUT)
        times.append((time.monotonic() - start) * 1000)
    return statistics.median(times)


async def start_bot(args: argparse.Namespace, live: Live, user: MatrixUser) -> tuple[Child, str, str]:
    """cct-bot on its seeded database, its web server on a free port; its room (joined) and
    the server's address."""
    folder = live.work / "cct-bot"
    folder.mkdir()
    url = f"sqlite+aiosqlite:///{folder / 'cct.db'}"
    print("seeding ...", file=sys.stderr, flush=True)
    await seed_database(url, args.groups, args.events)
    bot_id = live.server.register("cctbot", "cctbot-pw")
    room = await user.create_room(name="bench web", invite=[bot_id])
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    write_config(folder / "config.toml", {
        "matrix": {"homeserver": live.server.url, "user_id": bot_id, "password": "cctbot-pw",
                   "device_id": "CCTBENCH", "store_path": str(folder / "store"),
                   "encryption": False},
        "database": {"url": url},
        "club": {"allowed_inviters": [user.user_id], "coordinators": [user.user_id]},
        "rooms": {"main": room},
        "logging": {"level": "WARNING"},
        "web": {"enabled": True, "port": port, "base_url": site, "requests_per_minute": 0},
    })
    bot = live.spawn("cct-bot", [sys.executable, "-m", "bot.cli", "run", "--config",
                                 str(folder / "config.toml")])
    await guarded(user.wait_membership(room, bot_id, timeout=120), [bot], 130)
    return bot, room, site


async def under_load(args: argparse.Namespace, live: Live, bot: Child, user: MatrixUser,
                     room: str, url: str) -> tuple[dict[str, Any], float]:
    """The load process's figures on ``url``, and the ``!ping`` p50 meanwhile."""
    name = f"load-{len(live.children)}"
    out = live.work / f"{name}.json"
    loader = live.spawn(name, [sys.executable, "-m", "bench.web", "--load", url, "--seconds",
                               str(args.seconds), "--clients", str(args.clients), "--out",
                               str(out)])
    await asyncio.sleep(1.0)  # the load under way
    loaded = await guarded(ping_p50(user, room, args.pings), [bot], 600)
    while loader.process.poll() is None:
        await asyncio.sleep(0.2)
    return json.loads(out.read_text()), loaded


async def rounds(args: argparse.Namespace, live: Live) -> list[str]:
    user = await MatrixUser.create(live.server, "bench")
    try:
        bot, room, site = await start_bot(args, live, user)
        await ping_p50(user, room, 10)  # warm-up
        lines = ["| route | requests/s | p50 ms | p99 ms | errors | !ping p50 ms quiet → "
                 "loaded | × |", "|---|---|---|---|---|---|---|"]
        async with aiohttp.ClientSession() as session:
            for label, path in ROUTES:
                async with session.get(site + path) as response:
                    if response.status == 404:
                        lines.append(f"| {label} (`{path}`) | not served yet | | | | | |")
                        continue
                # The quiet figure just before each load: the host's load moves by the minute.
                quiet = await ping_p50(user, room, args.pings)
                figures, loaded = await under_load(args, live, bot, user, room, site + path)
                lines.append(f"| {label} (`{path}`) | {figures['rps']:.0f} | {figures['p50']:.1f} "
                             f"| {figures['p99']:.1f} | {figures['errors']} | {quiet:.0f} → "
                             f"{loaded:.0f} | {loaded / quiet:.2f} |")
        return lines
    finally:
        await user.close()


def measure(args: argparse.Namespace, live: Live) -> int:
    load_before, started = load_average(), time.monotonic()
    lines = asyncio.run(rounds(args, live))
    print(f"web server under load, {time.strftime('%Y-%m-%d %H:%M')}, Synapse "
          f"{synapse_version(live.python)}; {args.groups} groups, {args.events} events; "
          f"{args.clients} connections × {args.seconds:.0f} s per route, {args.pings} pings; "
          f"{time.monotonic() - started:.0f} s; load average {load_before} before, "
          f"{load_average()} after\n")
    print("\n".join(lines))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.web",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per route")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--pings", type=int, default=60, help="!ping timed per phase")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)  # the load process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.load:
        figures = asyncio.run(load(args.load, args.seconds, args.clients))
        args.out.write_text(json.dumps(figures))
        return 0
    return run_live("web", lambda live: measure(args, live), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
