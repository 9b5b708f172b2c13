"""Command → reply latency of cct-bot, a bare matrix-nio echo bot and matrix-reminder-bot, side by
side on one fresh Synapse.

    .venv/bin/python -m bench.latency [--n 200] [--warmup 20] [--modes plain,encrypted] [--markdown]

One run starts a throwaway Synapse (temporary folder) and, as separate processes, cct-bot (``python
-m bot.cli run``, its SQLite database seeded with project groups), ``bench.echo_bot`` (the floor)
and matrix-reminder-bot (its own virtualenv, ``.venv-peers``, installed on demand by
``bench.peers``); each bot gets one plain and one encrypted room. A measuring client then sends,
round after round, every command of the table below to its bot, one at a time, in a new shuffled
order each round (seeded: no row always follows the same one), and times each from just before
``room_send`` to the moment its sync delivers the reply (monotonic clock). It prints p50 / p95 / p99
per row, the p50 ratio to the echo bot in the same kind of room, and whether the goals are met:
cct-bot's p50 within 1.10 × the echo bot's and below matrix-reminder-bot's. Everything it started is
stopped on exit, error, Ctrl-C or SIGTERM. Compare figures only within one run: the host's load
moves them."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from nio import Event, MatrixRoom, RoomMessageNotice, RoomMessageText, RoomSendResponse

from bench import trace
from bench.harness import Live, guarded, load_average, run_live, synapse_version, write_config
from bench.latency_rows import CASES, CCT, ECHO, PEER, Row, report, summarise
from bench.peers import ensure_peers, peer_version, reminder_bot_config
from bench.projects import seed as seed_groups
from bench.trace import child_env
from storage.db import Database
from tests.integration.matrix_user import MatrixUser, reply_target

REPLY_TIMEOUT = 60.0
MODES = ("plain", "encrypted")


async def seed_database(url: str, groups: int) -> None:
    """cct-bot's database, migrated, with ``groups`` project groups (10 members and 40 progress
    entries each, as ``bench.projects`` at the club's target scale); on PostgreSQL
    (``bench.turn --database-url``) vacuumed as autovacuum would soon do."""
    db = Database(url)
    try:
        await db.upgrade()
        await seed_groups(db, groups, groups * 10, groups * 40, random.Random(8))
        await db.vacuum_analyze()
    finally:
        await db.dispose()


def slot(days: int) -> str:
    """A poll slot ``days`` from today, as ``!sondage dates`` reads it (``17/01 18h``)."""
    return f"{(date.today() + timedelta(days=days)).strftime('%d/%m')} 18h"


class Bench:
    """Starts the bots on a running Synapse, gives each its rooms, then times every row."""

    def __init__(self, args: argparse.Namespace, live: Live) -> None:
        self.args = args
        self.live = live
        self.server = live.server
        self.work = live.work
        self.children = live.children
        self.arrivals: dict[str, float] = {}  # event id -> monotonic arrival time
        self.bots: dict[str, str] = {}  # bot name -> user id
        self.user: MatrixUser | None = None

    def stamp(self, _room: MatrixRoom, event: RoomMessageNotice | RoomMessageText) -> None:
        """nio event callback: runs as soon as the client's sync delivers a message."""
        if self.user is not None and event.sender != self.user.user_id:
            self.arrivals.setdefault(event.event_id, time.monotonic())

    async def run(self) -> list[Row]:
        modes: list[str] = self.args.modes
        cases = [case for case in CASES if case.bot != PEER or self.args.peer]
        # One bench account with e2e, for both kinds of rooms; every bot runs with e2e too (as
        # cct-bot does by default and matrix-reminder-bot always does) and serves both kinds.
        user = self.user = await MatrixUser.create(self.server, "bench", encryption=True,
                                                   store_dir=self.work / "bench-store")
        user.client.add_event_callback(self.stamp, (RoomMessageNotice, RoomMessageText))
        for bot in dict.fromkeys(case.bot for case in cases):
            self.bots[bot] = self.server.register(bot.replace("-", ""), f"{bot}-pw")
        rooms = {(bot, mode): await user.create_room(name=f"bench {bot} {mode}", invite=[bot_id],
                                                      encrypted=mode == "encrypted")
                 for bot, bot_id in self.bots.items() for mode in modes}
        await self.start_bots(rooms[CCT, modes[0]], user.user_id)
        for (bot, _mode), room_id in rooms.items():
            await guarded(user.wait_membership(room_id, self.bots[bot], timeout=120),
                          self.children, 130)
        if "encrypted" in modes:
            await self.learn_devices(user, [(self.bots[bot], rooms[bot, "encrypted"])
                                            for bot in self.bots])
        polls = {mode: await self.open_poll(rooms[CCT, mode]) for mode in modes}
        rows = [Row(case, mode, rooms[case.bot, mode], polls[mode])
                for mode in modes for case in cases]
        print(f"measuring {len(rows)} rows × {self.args.warmup} + {self.args.n} rounds ...",
              file=sys.stderr, flush=True)
        shuffler = random.Random(self.args.seed)
        for round_ in range(self.args.warmup + self.args.n):
            # A new order each round: what a row follows (another bot's exchange, a poll's edit
            # waited for, ...) moves its figure, so no row may always follow the same one.
            for row in shuffler.sample(rows, len(rows)):
                await asyncio.sleep(self.args.gap_ms / 1000)  # every bot back to waiting
                elapsed, turn = await self.measure(row, round_)
                if round_ >= self.args.warmup:
                    row.samples.append(elapsed)
                    row.turns.append(turn)
        return rows

    async def start_bots(self, main_room: str, inviter: str) -> None:
        folder = self.work / "cct-bot"
        folder.mkdir()
        url = f"sqlite+aiosqlite:///{folder / 'cct.db'}"
        await seed_database(url, self.args.groups)
        config: dict[str, dict[str, Any]] = {
            "matrix": {"homeserver": self.server.url, "user_id": self.bots[CCT],
                       "password": f"{CCT}-pw", "device_id": "CCTBENCH",
                       "store_path": str(folder / "store"), "encryption": True},
            "database": {"url": url},
            "club": {"allowed_inviters": [inviter], "coordinators": [inviter]},
            "rooms": {"main": main_room},
            "logging": {"level": self.args.bot_log_level},
        }
        write_config(folder / "config.toml", config)
        traced = child_env(self.args.trace) if self.args.trace else {}
        self.spawn(CCT, [sys.executable, "-m", "bot.cli", "run", "--config",
                         str(folder / "config.toml")], traced)
        self.spawn(ECHO, [sys.executable, "-m", "bench.echo_bot", "--homeserver", self.server.url,
                          "--user-id", self.bots[ECHO], "--inviter", inviter, "--encrypted",
                          "--store", str(self.work / "echo-store")],
                   {"ECHO_BOT_PASSWORD": f"{ECHO}-pw", **traced})
        if PEER in self.bots:
            folder = self.work / PEER
            folder.mkdir()
            config = reminder_bot_config(homeserver=self.server.url, user_id=self.bots[PEER],
                                         password=f"{PEER}-pw", folder=folder)
            (folder / "config.yaml").write_text(json.dumps(config, indent=2), encoding="utf-8")
            self.spawn(PEER, [str(self.args.reminder_bot), str(folder / "config.yaml")])

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.live.spawn(name, argv, env)

    async def learn_devices(self, user: MatrixUser, bots: Sequence[tuple[str, str]]) -> None:
        """Encrypted rooms: wait until the client has each bot among the room's members and knows
        its device: nio shares the room key with the devices it knows when it first sends, and a
        bot it did not know then would never get the key."""
        client = user.client
        for user_id, room_id in bots:
            deadline = time.monotonic() + 60
            room = client.rooms[room_id]
            # (active_user_devices is a generator: always true, even when it yields nothing)
            while (user_id not in room.users or user_id in room.invited_users
                   or not list(client.device_store.active_user_devices(user_id))):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no device keys for {user_id}")
                await client.joined_members(room_id)
                client.olm.users_for_key_query.add(user_id)
                await client.keys_query()
                await asyncio.sleep(0.2)

    async def open_poll(self, room_id: str) -> int:
        """``!sondage dates`` (the bench account is a coordinator); returns the poll's number."""
        body = await self.exchange(room_id, self.bots[CCT],
                                   f"!sondage dates Prochaine rencontre ? | {slot(30)} | {slot(31)}",
                                   "Sondage n°", threaded=True)
        found = re.search(r"n°(\d+)", body)
        assert found is not None
        return int(found.group(1))

    async def measure(self, row: Row, round_: int) -> tuple[float, float]:
        """Sends the row's command; returns the milliseconds until its reply reached the client,
        and between the homeserver's timestamps of the two (the bot's turn: its sync, its work,
        its send). What follows, an edit or the undo command, is waited for but not timed."""
        case, bot = row.case, self.bots[row.case.bot]
        start, command, reply = await self.send_and_wait(row.room_id, bot,
                                                         case.command(round_, row.poll),
                                                         case.threaded)
        # Replies decrypted late (room key after the event) miss the callback: count them now.
        elapsed = (self.arrivals.pop(reply.event_id, time.monotonic()) - start) * 1000
        turn = float(reply.server_timestamp - command.server_timestamp)
        body = str(getattr(reply, "body", ""))
        if case.expect not in body:
            raise RuntimeError(f"{case.bot} {case.label} ({row.mode}): unexpected reply {body!r}")
        if case.edits:
            await self.wait(row.room_id, lambda e: e.sender == bot and _replaces(e))
        if case.undo is not None:
            command, expected = case.undo(body)
            await self.exchange(row.room_id, bot, command, expected, case.threaded)
        return elapsed, turn

    async def exchange(self, room_id: str, bot: str, command: str, expected: str,
                       threaded: bool) -> str:
        """An untimed command and its checked reply; returns the reply's body."""
        _start, _command, reply = await self.send_and_wait(room_id, bot, command, threaded)
        body = str(getattr(reply, "body", ""))
        if expected not in body:
            raise RuntimeError(f"{command!r}: unexpected reply {body!r}")
        return body

    async def send_and_wait(self, room_id: str, bot: str, command: str,
                            threaded: bool) -> tuple[float, Event, Event]:
        """Sends ``command`` as ``m.text``; returns when it was sent (monotonic), the command as
        synced back, and the reply: the bot's message that names it (``threaded``) or, else, the
        bot's next message."""
        assert self.user is not None
        client = self.user.client
        self.user.events[room_id].clear()  # what is recorded from now on came after the command
        room = client.rooms[room_id]
        if room.encrypted and client.olm is not None:
            # The client's own key sharing (first message, then every 100) is not the bot's time.
            if not room.members_synced:
                await client.joined_members(room_id)
            if client.olm.should_share_group_session(room_id):
                await client.share_group_session(room_id, ignore_unverified_devices=True)
        start = time.monotonic()
        response = await client.room_send(room_id, "m.room.message",
                                          {"msgtype": "m.text", "body": command},
                                          ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"sending {command!r} failed: {response}")
        command_id = response.event_id

        def is_reply(event: Event) -> bool:
            return (isinstance(event, RoomMessageNotice | RoomMessageText)
                    and event.sender == bot and not _replaces(event)
                    and (not threaded or reply_target(event) == command_id))

        reply = await self.wait(room_id, is_reply)
        return start, await self.wait(room_id, lambda e: e.event_id == command_id), reply

    async def wait(self, room_id: str, predicate: Callable[[Event], bool]) -> Event:
        assert self.user is not None
        return await guarded(self.user.wait_for(room_id, predicate, REPLY_TIMEOUT), self.children,
                             REPLY_TIMEOUT + 5)

    async def close(self) -> None:
        if self.user is not None:
            await self.user.close()


def _replaces(event: Event) -> bool:
    """Whether ``event`` is an edit (``m.replace``) of another message."""
    relates = getattr(event, "source", {}).get("content", {}).get("m.relates_to", {})
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="measured commands per row")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured rounds first")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="kinds of rooms, comma-separated (default: plain,encrypted)")
    parser.add_argument("--encrypted", action="store_true", help="same as --modes encrypted")
    parser.add_argument("--groups", type=int, default=500,
                        help="project groups seeded in cct-bot's database (×10 members, ×40 news)")
    parser.add_argument("--no-reminder-bot", dest="peer", action="store_false",
                        help="leave matrix-reminder-bot out")
    parser.add_argument("--gap-ms", type=float, default=0.0,
                        help="pause before each command (untimed), after the last exchange")
    parser.add_argument("--seed", type=int, default=1, help="seed of the rounds' shuffled orders")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--bot-log-level", default="WARNING", help="cct-bot's logging.level")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--trace", metavar="DIR", type=Path,
                        help="trace the client, the echo bot and cct-bot into DIR and print "
                             "where the time goes (bench/trace.py; costs a little time itself)")
    args = parser.parse_args(argv)
    args.modes = ["encrypted"] if args.encrypted else [m for m in args.modes.split(",") if m]
    if not args.modes or any(mode not in MODES for mode in args.modes):
        parser.error(f"--modes: a comma-separated list of {', '.join(MODES)}")
    if args.n < 2:
        parser.error("--n must be at least 2")
    return args


def measure(args: argparse.Namespace, live: Live) -> int:
    """Runs the rounds on ``live``'s Synapse and prints the table (and the trace's)."""
    bench = Bench(args, live)

    async def rounds() -> list[Row]:
        try:
            return await bench.run()
        finally:
            await bench.close()

    load_before, started = load_average(), time.monotonic()
    rows = asyncio.run(rounds())
    peer = f", matrix-reminder-bot {peer_version()}" if args.peer else ""
    header = (f"command → reply latency, {time.strftime('%Y-%m-%d %H:%M')}, Synapse "
              f"{synapse_version(live.python)}{peer}; N={args.n} per row (+{args.warmup} warm-up "
              f"rounds), {args.groups} project groups; {time.monotonic() - started:.0f} s; "
              f"load average {load_before} before, {load_average()} after")
    print(report(summarise(rows), header, args.markdown))
    if args.trace:
        print("\n" + trace.report(args.trace, f"@bench:{live.server.server_name}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.reminder_bot = ensure_peers() if args.peer else None
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session for device …" before a claim
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
        trace.install(args.trace)
    return run_live("latency", lambda live: measure(args, live), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
