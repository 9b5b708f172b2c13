"""The bot's own turn, in process: from a sync response handed to the bot to its reply handed to
the homeserver (a stand-in that answers at once), for ``bench.latency``'s commands.

    .venv/bin/python -m bench.turn [--n 300] [--gap-ms 20] [--groups 500] [--database-url URL]
                                   [--profile FILE] [--statements] [command …]

What ``bench.latency`` calls the "bot turn" holds this plus the homeserver's share; here nothing
else runs, so two versions of the bot can be compared without a homeserver's noise. ``--gap-ms``
is the idle time before each command (a bot waits on the network between commands, and a CPU
coming back from idle runs the same code slower: 20 ms is what a live bot sees). Prints wall and
CPU time p50 / p90 / p99 per command. The database is seeded as ``bench.latency`` seeds it
(``--groups`` project groups) and a date poll is opened first (``{poll}`` in a command); a
reminder set by a command is cancelled after it (untimed), as there. ``--statements`` prints
the SQL statements of each command's last measured turn.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nio import SyncResponse
from sqlalchemy import event

from bench.latency import seed_database, slot
from bench.latency_rows import percentile
from bot.app import Bot
from bot.config import parse_settings

BOT = "@cct-bot:localhost"
ROOM = "!main:localhost"
SENDER = "@alice:localhost"
COMMANDS = ["!ping", "!projet liste", "!vote {poll} 1+ 2?",
            "!rappel dans 3 jours relancer le groupe"]


def sync_with(command: str, event_id: str, token: str) -> SyncResponse:
    """A sync response holding one command, as nio parses it from the homeserver's JSON."""
    event = {"type": "m.room.message", "event_id": event_id, "sender": SENDER,
             "origin_server_ts": int(datetime.now(UTC).timestamp() * 1000),
             "content": {"msgtype": "m.text", "body": command}}
    raw = {"next_batch": token, "rooms": {"join": {ROOM: {
        "timeline": {"events": [event], "limited": False, "prev_batch": "p"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    }}}}
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse)
    return response


async def offline_bot(folder: Path, database_url: str) -> Bot:
    """A bot in ``ROOM`` whose homeserver answers every send at once; ``SENDER`` coordinates."""
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": BOT, "password": "x",
                   "store_path": "store", "encryption": False},
        "database": {"url": database_url},
        "club": {"charter": "On s'écoute.", "coordinators": [SENDER]},
        "rooms": {"main": ROOM},
    }, base=folder, env={})
    bot = Bot(settings)
    await bot.db.upgrade()
    bot.club_rooms[ROOM] = "main"
    async with bot.db.transaction() as repos:
        await repos.rooms.mark_joined(ROOM, datetime.now(UTC) - timedelta(days=1))
    await bot.load_state()
    return bot


class Homeserver:
    """Stands for the homeserver's send endpoint: answers at once, notes the reply to the
    command it is told to expect."""

    def __init__(self) -> None:
        self.sent = asyncio.Event()
        self.expected = ""
        self.body = ""
        self.at = (0.0, 0.0)  # when the reply was handed over: perf_counter, process_time

    def expect(self, event_id: str) -> None:
        self.expected = event_id
        self.sent.clear()

    async def send(self, room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        replied = content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        if replied == self.expected and "m.new_content" not in content:
            self.at = (time.perf_counter(), time.process_time())
            self.body = str(content.get("body", ""))
            self.sent.set()
        return "$" + txn_id


async def exchange(bot: Bot, homeserver: Homeserver, command: str, key: str) -> str:
    """Hands one command to the bot; returns its reply's body once sent."""
    homeserver.expect(f"${key}")
    tasks = await bot.handle_sync(sync_with(command, f"${key}", f"s-{key}"))
    await homeserver.sent.wait()
    await asyncio.gather(*tasks)
    await bot.outbox.settled(5)
    return homeserver.body


class Statements:
    """The SQL statements the bot sends, from the last ``start`` until its reply is sent."""

    def __init__(self, bot: Bot, homeserver: Homeserver) -> None:
        self.homeserver = homeserver
        self.seen: list[str] = []
        event.listen(bot.db.engine.sync_engine, "before_cursor_execute", self._note)

    def start(self) -> None:
        self.seen = []

    def _note(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.homeserver.sent.is_set():
            self.seen.append(" ".join(statement.split())[:150])


async def measure(bot: Bot, homeserver: Homeserver, command: str, n: int, warmup: int,
                  gap_s: float, profile: cProfile.Profile | None = None,
                  statements: Statements | None = None) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    seen: list[str] = []
    for i in range(warmup + n):
        await asyncio.sleep(gap_s)
        if statements is not None:
            statements.start()
        response = sync_with(command, f"${command}-{i}", f"s-{command}-{i}")
        homeserver.expect(f"${command}-{i}")
        profiling = profile if i >= warmup else None
        if profiling is not None:
            profiling.enable()
        started, started_cpu = time.perf_counter(), time.process_time()
        tasks = await bot.handle_sync(response)
        await homeserver.sent.wait()
        if profiling is not None:
            profiling.disable()
        seen = list(statements.seen) if statements is not None else []
        if i >= warmup:
            wall.append((homeserver.at[0] - started) * 1000)
            cpu.append((homeserver.at[1] - started_cpu) * 1000)
        await asyncio.gather(*tasks)
        await bot.outbox.settled(5)
        reminder = re.search(r"Rappel n°(\d+)", homeserver.body)
        if reminder:
            await exchange(bot, homeserver, f"!rappel annuler {reminder.group(1)}", f"undo-{i}")
    if statements is not None:
        print(f"  {len(seen)} statements before the reply:", *seen, sep="\n    ")
    return wall, cpu


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cct-turn-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'cct.db'}"
    await seed_database(url, args.groups)
    bot = await offline_bot(folder, url)
    homeserver = Homeserver()
    bot.transport.send = homeserver.send  # type: ignore[method-assign]
    sender = asyncio.create_task(bot.outbox.run())
    opened = await exchange(bot, homeserver, f"!sondage dates Prochaine rencontre ? | {slot(30)} "
                            f"| {slot(31)}", "poll")
    found = re.search(r"n°(\d+)", opened)
    if found is None:
        raise RuntimeError(f"no poll opened: {opened!r}")
    print(f"bot turn in process, {datetime.now():%Y-%m-%d %H:%M}, N={args.n} per command, "
          f"{args.gap_ms:g} ms idle before each, {'SQLite' if bot.db.is_sqlite else 'PostgreSQL'}")
    print(f"{'command':42} {'wall p50':>9} {'p90':>6} {'p99':>6} {'cpu p50':>8} {'p90':>6}")
    profile = cProfile.Profile() if args.profile else None
    statements = Statements(bot, homeserver) if args.statements else None
    try:
        for command in args.commands or COMMANDS:
            wall, cpu = await measure(bot, homeserver, command.format(poll=found.group(1)),
                                      args.n, args.warmup, args.gap_ms / 1000, profile,
                                      statements)
            print(f"{command:42} {percentile(wall, 50):9.2f} {percentile(wall, 90):6.2f} "
                  f"{percentile(wall, 99):6.2f} {percentile(cpu, 50):8.2f} "
                  f"{percentile(cpu, 90):6.2f}")
    finally:
        sender.cancel()
        await bot.stop()
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile of the measured turns (cProfile, slows them down): {args.profile}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.turn",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--groups", type=int, default=500, help="project groups seeded")
    parser.add_argument("--database-url",
                        help="an empty PostgreSQL database (default: SQLite in a temporary folder)")
    parser.add_argument("--profile", metavar="FILE",
                        help="profile the measured turns with cProfile into FILE (pstats)")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of each command's last measured turn")
    parser.add_argument("commands", nargs="*", help=f"default: {', '.join(COMMANDS)}")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
