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
import contextlib
import json
import logging
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from nio import Event, MatrixRoom, RoomMessageNotice, RoomMessageText, RoomSendResponse

from bench import trace
from bench.peers import ensure_peers, peer_version, reminder_bot_config
from bench.projects import seed as seed_groups
from bench.trace import child_env
from bot.files import write_private
from devtools.devserver import LocalSynapse, find_synapse_python
from storage.db import Database
from tests.integration.matrix_user import MatrixUser, reply_target

REPO = Path(__file__).resolve().parent.parent
GOAL_P50_RATIO = 1.10
REPLY_TIMEOUT = 60.0
MODES = ("plain", "encrypted")
ECHO, CCT, PEER = "echo", "cct-bot", "matrix-reminder-bot"
T = TypeVar("T")


class Child:
    """A subprocess in its own process group, output to a log file; ``stop()`` is idempotent."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **env},
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def check(self) -> None:
        if self.process.poll() is not None:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class Target:
    """One bot under test: its account, its room and its measured latencies (ms)."""

    name: str
    user_id: str
    room_id: str = ""
    samples: list[float] = field(default_factory=list)


async def guarded(awaitable: Awaitable[T], children: Sequence[Child], timeout: float) -> T:
    """Awaits ``awaitable``, failing early if a child process dies or ``timeout`` passes."""
    task = asyncio.ensure_future(awaitable)
    deadline = time.monotonic() + timeout
    try:
        while not task.done():
            for child in children:
                child.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing after {timeout:.0f} s")
            await asyncio.wait({task}, timeout=0.25)
        return task.result()
    finally:
        task.cancel()


def toml_config(values: dict[str, dict[str, Any]]) -> str:
    """A TOML file from a table → key → (str | bool | int | list[str]) mapping."""
    lines: list[str] = []
    for table, entries in values.items():
        lines.append(f"[{table}]")
        for key, value in entries.items():
            text = str(value).lower() if isinstance(value, bool) else json.dumps(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


def write_config(path: Path, values: dict[str, dict[str, Any]]) -> None:
    """The bot's config file, private (it holds a password: the bot refuses it otherwise)."""
    write_private(path, toml_config(values).encode())


def synapse_version(python: str) -> str:
    result = subprocess.run([python, "-c", "import synapse; print(synapse.__version__)"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


@dataclass(frozen=True)
class Case:
    """One command to one bot: what is sent, how its reply is recognised and checked."""

    bot: str
    label: str
    commands: tuple[str, ...]  # round i sends commands[i % len]; ``{poll}``: the room's poll
    expect: str  # the reply's body must contain this (else the run stops: wrong measurement)
    threaded: bool = True  # the reply names the command (m.in_reply_to); else the bot's next message
    edits: bool = False  # an edit of another message follows the reply: waited for, not timed
    undo: Callable[[str], tuple[str, str]] | None = None  # reply body → (command, expected)

    def command(self, round_: int, poll: int) -> str:
        return self.commands[round_ % len(self.commands)].format(poll=poll)


def _cancel_rappel(body: str) -> tuple[str, str]:
    found = re.search(r"n°(\d+)", body)
    if found is None:
        raise RuntimeError(f"no reminder number in {body!r}")
    return f"!rappel annuler {found.group(1)}", "annulé"


CASES = (
    Case(ECHO, "!ping", ("!ping",), "pong"),
    Case(CCT, "!ping", ("!ping",), "pong"),
    Case(CCT, "!projet liste", ("!projet liste",), "Groupes-projets"),
    # Alternating ballots: each vote changes something (then the poll message is edited).
    Case(CCT, "!vote <poll> 1+ 2?", ("!vote {poll} 1+ 2?", "!vote {poll} 1? 2+"),
         "Vote enregistré", edits=True),
    # Cancelled after each round (not timed): cct-bot keeps at most 100 pending per person.
    Case(CCT, "!rappel dans 3 jours relancer le groupe",
         ("!rappel dans 3 jours relancer le groupe",), "Rappel n°", undo=_cancel_rappel),
    # Its confirmation is an m.notice that does not name the command; cancelled likewise, else
    # the next one is refused as "a similar reminder already exists".
    Case(PEER, "!remindme 3 days; relancer le groupe", ("!remindme 3 days; relancer le groupe",),
         "OK, I will remind you", threaded=False,
         undo=lambda _body: ("!cancelreminder relancer le groupe", "cancelled")),
)


@dataclass
class Row:
    """One case in one kind of room, with its measured latencies (ms)."""

    case: Case
    mode: str
    room_id: str
    poll: int = 0
    samples: list[float] = field(default_factory=list)  # command sent → reply received
    turns: list[float] = field(default_factory=list)  # the two events' origin_server_ts apart


async def seed_database(url: str, groups: int) -> None:
    """cct-bot's database, migrated, with ``groups`` project groups (10 members and 40 progress
    entries each, as ``bench.projects`` at the club's target scale)."""
    db = Database(url)
    try:
        await db.upgrade()
        await seed_groups(db, groups, groups * 10, groups * 40, random.Random(8))
    finally:
        await db.dispose()


def slot(days: int) -> str:
    """A poll slot ``days`` from today, as ``!sondage dates`` reads it (``17/01 18h``)."""
    return f"{(date.today() + timedelta(days=days)).strftime('%d/%m')} 18h"


class Bench:
    """Starts the bots on a running Synapse, gives each its rooms, then times every row."""

    def __init__(self, args: argparse.Namespace, server: LocalSynapse, work: Path,
                 children: list[Child]) -> None:
        self.args = args
        self.server = server
        self.work = work
        self.children = children
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
        self.children.append(Child(name, argv, self.work / f"{name}.log", env or {}))

    async def learn_devices(self, user: MatrixUser, bots: Sequence[tuple[str, str]]) -> None:
        """Encrypted rooms: wait until the client knows each bot's device (so it gets the key)."""
        client = user.client
        for user_id, room_id in bots:
            deadline = time.monotonic() + 60
            while not client.device_store.active_user_devices(user_id):
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


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


@dataclass(frozen=True)
class Line:
    """One row of the printed table."""

    mode: str
    bot: str
    command: str
    p50: float
    p95: float
    p99: float
    ratio: float  # p50 / the echo bot's p50 in the same kind of room
    turn: float  # p50 of the bot's turn (origin_server_ts of the command → of the reply)
    within: str  # cct-bot: p50 ≤ 1.10 × echo ("yes"/"NO"), else ""
    below_peer: str  # cct-bot: p50 < matrix-reminder-bot's ("yes"/"NO"/"n/a"), else ""


def summarise(rows: Sequence[Row]) -> list[Line]:
    lines = []
    for mode in dict.fromkeys(row.mode for row in rows):
        here = [row for row in rows if row.mode == mode]
        p50 = {(row.case.bot, row.case.label): percentile(row.samples, 50) for row in here}
        echo = p50[ECHO, "!ping"]
        peer = next((value for (bot, _label), value in p50.items() if bot == PEER), None)
        for row in here:
            mine = p50[row.case.bot, row.case.label]
            within = below = ""
            if row.case.bot == CCT:
                within = "yes" if mine <= GOAL_P50_RATIO * echo else "NO"
                below = "n/a" if peer is None else "yes" if mine < peer else "NO"
            lines.append(Line(mode, row.case.bot, row.case.label, mine,
                              percentile(row.samples, 95), percentile(row.samples, 99),
                              mine / echo, percentile(row.turns, 50), within, below))
    return lines


def report(lines: Sequence[Line], header: str, markdown: bool) -> str:
    titles = ("rooms", "bot", "command", "p50 ms", "p95 ms", "p99 ms", "p50/echo",
              "bot turn p50", f"≤ {GOAL_P50_RATIO:.2f}× echo", "< reminder-bot")
    cells = [(line.mode, line.bot, line.command, f"{line.p50:.1f}", f"{line.p95:.1f}",
              f"{line.p99:.1f}", f"{line.ratio:.2f}", f"{line.turn:.0f}", line.within,
              line.below_peer)
             for line in lines]
    if markdown:
        table = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
        table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in cells]
    else:
        widths = [max(len(row[i]) for row in [titles, *cells]) for i in range(len(titles))]
        table = ["  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                           for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
                 for row in [titles, *cells]]
    return "\n".join([header, *table])


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


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON or create .venv-synapse", file=sys.stderr)
        return 2
    args.reminder_bot = ensure_peers() if args.peer else None
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session for device …" before a claim
    signal.signal(signal.SIGTERM, _terminate)  # a SIGTERM cleans up like Ctrl-C
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
        trace.install(args.trace)
    work = Path(tempfile.mkdtemp(prefix="cct-bench-"))
    server = LocalSynapse(work / "synapse", python=python)
    children: list[Child] = []
    try:
        print(f"setting up in {work} ...", file=sys.stderr, flush=True)
        server.start()
        bench = Bench(args, server, work, children)

        async def measure() -> list[Row]:
            try:
                return await bench.run()
            finally:
                await bench.close()

        load_before, started = load_average(), time.monotonic()
        rows = asyncio.run(measure())
        peer = f", matrix-reminder-bot {peer_version()}" if args.peer else ""
        header = (f"command → reply latency, {time.strftime('%Y-%m-%d %H:%M')}, Synapse "
                  f"{synapse_version(python)}{peer}; N={args.n} per row (+{args.warmup} warm-up "
                  f"rounds), {args.groups} project groups; {time.monotonic() - started:.0f} s; "
                  f"load average {load_before} before, {load_average()} after")
        print(report(summarise(rows), header, args.markdown))
        if args.trace:
            print("\n" + trace.report(args.trace, f"@bench:{server.server_name}"))
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        clean_up(children, server, work, keep=args.keep)


def clean_up(children: Sequence[Child], server: LocalSynapse, work: Path, *, keep: bool) -> None:
    """Stops the bots and the homeserver; removes the temporary folder unless ``keep``."""
    for child in children:
        child.stop()
    server.stop()
    if keep:
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
