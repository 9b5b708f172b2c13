"""The phases of ``bench.club_scale`` (what each measures: its docstring), on a populated
homeserver: cct-bot and the echo bot as processes, the observer's sync, the figures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import aiohttp

from bench.club_latency import ECHO_TRIGGER, latency
from bench.club_observer import Figures, Observer, Seen, p
from bench.club_populate import (
    COORD,
    PASSWORD,
    Api,
    Club,
    Sizes,
    bounded,
    member_name,
    register,
    room_members,
    storm_reminders,
)
from bench.harness import Child, LocalSynapse, cpu_seconds, write_config
from bench.loop_probe import ENV as PROBE_ENV
from bench.loop_probe import SITE as PROBE_SITE
from bench.loop_probe import longest_stall, stall_text
from bench.mem_probe import dump_memory, memory_env
from bench.reminders import rss_mib
from bench.trace import ENV as TRACE_ENV
from bench.trace import child_env
from storage.db import Database
from storage.models import Reminder

STORM_TEXT = re.compile(r"^⏰ Rappel(?: \(en retard\))? de @\S+ : tempête (\d+)$")
GOALS = {"start": 5.0, "rss": 150.0, "welcome": 2.0, "stall": 50.0}


class Bench:
    def __init__(self, args: argparse.Namespace, server: LocalSynapse, club: Club, run: str,
                 folder: Path, session: aiohttp.ClientSession) -> None:
        self.args = args
        self.server = server
        self.club = club
        self.run_id = run
        self.work = folder / f"run-{run}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.session = session
        self.coord = Api(session, server.url, club.coord)
        self.observer = Observer(self.coord)
        self.children: list[Child] = []
        self.bot: Child | None = None
        self.echo: Child | None = None
        self.probe = self.work / "loop-probe.jsonl"
        self.memory = self.work / "memory.jsonl"
        self.figures = Figures()
        self.main = club.rooms["main"]
        self.starts = 0

    # ---------------------------------------------------------------- processes

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = Child(name, argv, self.work / f"{name}.log", env)
        self.children.append(child)
        return child

    def start_bot(self, url: str) -> float:
        """cct-bot as a process, its loop probed; returns when it was launched (monotonic)."""
        self.starts += 1
        config = self.work / "config.toml"
        write_config(config, {
            "matrix": {"homeserver": self.server.url, "user_id": self.club.bot_id,
                       "password": PASSWORD, "device_id": f"CLUB{self.run_id}",
                       "store_path": str(self.work / "store")},
            "database": {"url": url},
            "club": {"allowed_inviters": [f"@{COORD}:localhost"],
                     "coordinators": [f"@{COORD}:localhost"]},
            "rooms": {role: room for role, room in self.club.rooms.items()},
            "logging": {"level": "INFO"}})
        launched = time.monotonic()
        self.bot = self.spawn(f"cct-bot-{self.starts}", [
            sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
            {PROBE_ENV: str(self.probe), "PYTHONPATH": str(PROBE_SITE),
             **memory_env(self.args.memory, self.memory),
             **({TRACE_ENV: str(self.args.trace)} if self.args.trace else {})})
        return launched

    def start_echo(self) -> Child:
        """The bare nio echo bot, with end-to-end encryption like cct-bot (a new device each
        run: a device's keys cannot be uploaded twice)."""
        return self.spawn("echo-bot", [
            sys.executable, "-m", "bench.echo_bot", "--homeserver", self.server.url,
            "--user-id", self.club.echo_id, "--inviter", f"@{COORD}:localhost",
            "--trigger", ECHO_TRIGGER, "--encrypted", "--store", str(self.work / "echo-store"),
            "--device-id", f"ECHO{self.run_id}"],
            {"ECHO_BOT_PASSWORD": PASSWORD,
             **(child_env(self.args.trace) if self.args.trace else {})})

    def stop(self, child: Child | None) -> None:
        if child is not None:
            child.stop()
            self.children.remove(child)

    def live(self) -> list[Child]:
        return self.children

    # ---------------------------------------------------------------- phases

    def phase(self, name: str, start: float) -> None:
        self.figures.phases.append((name, start, time.time()))

    async def first_answer(self, launched: float, what: str, goal: bool = True) -> None:
        """``!ping`` every second from launch until cct-bot answers one."""
        sent: list[str] = []
        answered: Seen | None = None
        deadline = launched + 120
        while answered is None:
            if not sent or time.monotonic() - self.last_ping >= 1.0:
                self.last_ping = time.monotonic()
                sent.append(await self.coord.send(self.main, "!ping"))
            for child in self.children:
                child.check()
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never answered")
            answered = min((s for e in sent if (s := self.observer.reply_from(
                e, self.club.bot_id))), key=lambda s: s.arrived, default=None)
            if answered is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.observer.changed.wait(), 0.2)
        elapsed = answered.arrived - launched
        if goal:
            self.figures.add(what, f"{elapsed:.1f} s", f"≤ {GOALS['start']:.0f} s",
                             elapsed <= GOALS["start"])
        else:
            self.figures.add(what, f"{elapsed:.1f} s")

    last_ping = 0.0

    async def rss(self, what: str) -> None:
        assert self.bot is not None
        value = rss_mib(self.bot.process.pid)
        self.figures.add(what, f"{value:.0f} MiB", f"≤ {GOALS['rss']:.0f} MB",
                         value * 1.048576 <= GOALS["rss"])
        if self.args.memory is not None:
            await dump_memory(self.bot.process.pid, self.memory)

    def answered(self, event_id: str, senders: list[str]) -> bool:
        return all(self.observer.reply_from(event_id, sender) for sender in senders)

    async def newcomers(self, count: int) -> list[tuple[str, Api]]:
        names = [f"n{self.run_id}x{i:03d}" for i in range(count)]
        tokens = await bounded([partial(register, self.session, self.server, n)
                                for n in names], 8, "newcomers registered")
        return [(user_id, Api(self.session, self.server.url, token))
                for user_id, token in tokens]

    def welcomes_of(self, user_id: str) -> list[Seen]:
        return [s for s in self.observer.seen
                if s.room_id == self.main and s.sender == self.club.bot_id
                and user_id in s.content.get("m.mentions", {}).get("user_ids", [])]

    async def welcomes(self) -> None:
        people = await self.newcomers(1 + self.args.newcomers)
        user_id, api = people[0]
        joined = time.monotonic()
        await api.join(self.main)
        await self.observer.until(lambda: bool(self.welcomes_of(user_id)), 120, "welcome",
                                  self.children)
        elapsed = self.welcomes_of(user_id)[0].arrived - joined
        self.figures.add("a newcomer welcomed after joining the main room", f"{elapsed:.1f} s",
                         f"≤ {GOALS['welcome']:.0f} s", elapsed <= GOALS["welcome"])
        burst = people[1:]
        first = time.monotonic()
        spacing = 60.0 / max(1, len(burst))
        for index, (_user, newcomer) in enumerate(burst):
            await asyncio.sleep(max(0.0, first + index * spacing - time.monotonic()))
            await newcomer.join(self.main)
        await self.observer.until(lambda: all(self.welcomes_of(u) for u, _ in burst), 300,
                                  "burst's welcomes", self.children)
        await asyncio.sleep(5)  # a second welcome of anyone would show by now
        counts = Counter(len(self.welcomes_of(u)) for u, _ in burst)
        messages = {s.event["event_id"] for u, _ in burst for s in self.welcomes_of(u)}
        once = counts.get(1, 0)
        self.figures.add(f"{len(burst)} newcomers joining over a minute",
                         f"{once} welcomed once, {len(burst) - once} not once; "
                         f"{len(messages)} messages", "each once, a few messages",
                         once == len(burst) and len(messages) <= 5)

    async def send_rate(self, while_: str) -> float:
        """Messages per second the homeserver takes from one sender, one at a time, in the
        main room (the bot sends one room's messages one at a time)."""
        count = self.args.rate_messages
        started = time.monotonic()
        for number in range(count):
            await self.coord.send(self.main, f"mesure du débit {number}")
        rate = float(count / (time.monotonic() - started))
        self.figures.add(f"homeserver's send rate (one sender, main room), {while_}",
                         f"{rate:.1f} messages/s")
        return rate

    async def parallel_rate(self) -> float:
        """Messages per second the homeserver takes from one sender per room in 8 rooms at
        once (the bot sends each room's messages in parallel with the other rooms')."""
        rooms = [*self.club.rooms.values(), *self.club.group_rooms][:8]
        each = max(1, self.args.rate_messages // len(rooms))

        async def room_sends(room_id: str) -> None:
            for number in range(each):
                await self.coord.send(room_id, f"mesure du débit {number}")

        started = time.monotonic()
        await asyncio.gather(*(room_sends(room_id) for room_id in rooms))
        rate = float(each * len(rooms) / (time.monotonic() - started))
        self.figures.add(f"homeserver's send rate, {len(rooms)} rooms at once, the bot stopped",
                         f"{rate:.1f} messages/s")
        return rate

    async def catch_up_commands(self) -> dict[str, str]:
        """``--catch-up`` ``!ping`` from as many people, across the rooms: event id → room."""
        joins = room_members(self.sizes)
        rooms = {**self.club.rooms, **{f"group{n}": r for n, r in
                                       enumerate(self.club.group_rooms)}}
        rng = random.Random(7)
        plan = []
        weights = {"main": 4, "north": 2, "south": 2}
        names = [name for name, weight in weights.items() for _ in range(weight)]
        for number in range(self.args.catch_up):
            room = rng.choice(names) if number % 5 else f"group{number % len(self.club.group_rooms)}"
            person = rng.choice(joins[room])
            plan.append((rooms[room], self.club.members[member_name(person)]))
        ids = await bounded([partial(Api(self.session, self.server.url, t).send, r, "!ping")
                             for r, t in plan], 4, "catch-up commands sent")
        return {event_id: room for event_id, (room, _t) in zip(ids, plan, strict=True)}

    async def write_storm(self, url: str, due: datetime) -> None:
        rooms = [*self.club.rooms.values(), *self.club.group_rooms]
        db = Database(url)
        try:
            async with db.transaction() as repos:
                repos.session.add_all(Reminder(**row) for row in
                                      storm_reminders(rooms, self.args.storm, due))
        finally:
            await db.dispose()

    async def run(self, url: str) -> None:
        await self.observer.start()
        # Start (first ever: a fresh database and store), latency, welcomes.
        wall = time.time()
        launched = self.start_bot(url)
        self.echo = self.start_echo()
        await self.first_answer(launched, "start to first answer (first start ever: fresh "
                                          "database and store)", goal=False)
        self.phase("start, until the first answer", wall)
        wall = time.time()
        await asyncio.sleep(10)  # the other rooms' member lists, loaded in the background
        await self.rss("RSS after start (+10 s)")
        self.phase("10 s after the first answer", wall)
        wall = time.time()
        await latency(self)
        self.phase("latency", wall)
        wall = time.time()
        await self.welcomes()
        self.phase("welcomes", wall)
        await self.rss("RSS after latency rounds and welcomes")
        self.stop(self.bot)  # a restart with every room joined and nothing waiting
        wall = time.time()
        launched = self.start_bot(url)
        await self.first_answer(launched, "restart to first answer (rooms joined, nothing "
                                          "waiting): the start's goal")
        self.phase("restart, until the first answer", wall)
        await self.stopped_then_restarted(url)

    async def stopped_then_restarted(self, url: str) -> None:
        """The bot stopped: the homeserver's rate, the commands of the catch-up, the storm
        written; the bot restarted."""
        self.stop(self.echo)
        # Measured while the bot runs (it syncs each message, as it will its own replies: on 2
        # cores the homeserver shares them with it), and while it is stopped; the goals use
        # the first.
        rate = await self.send_rate("the bot running")
        self.stop(self.bot)
        await self.send_rate("the bot stopped")
        await self.parallel_rate()
        commands = await self.catch_up_commands()
        expected_s = len(commands) / rate
        due = datetime.now(UTC) + timedelta(seconds=25 + 1.5 * expected_s)
        due = due.replace(microsecond=0)
        await self.write_storm(url, due)
        wall = time.time()
        launched = self.start_bot(url)
        await self.first_answer(launched, "restart to first answer (the catch-up waiting)",
                                goal=False)
        self.phase("restart with the catch-up, until the first answer", wall)
        wall = time.time()
        await self.caught_up(commands, launched, expected_s)
        self.phase("catch-up", wall)
        wall = time.time()
        await self.storm(due, rate)
        self.phase("storm", wall)
        await self.rss("RSS after catch-up and storm")
        self.stop(self.bot)

    async def caught_up(self, commands: dict[str, str], launched: float,
                        expected_s: float) -> None:
        """Every command of the catch-up answered: once each? the last when?"""
        await self.observer.until(
            lambda: all(self.observer.reply_from(e, self.club.bot_id) for e in commands),
            120 + 10 * expected_s, "catch-up", self.children)
        last = max(s.arrived for e in commands for s in self.observer.replies[e]
                   if s.sender == self.club.bot_id)
        counts = Counter(sum(1 for s in self.observer.replies[e] if s.sender == self.club.bot_id)
                         for e in commands)
        self.figures.add(f"catch-up: {len(commands)} commands sent while stopped",
                         f"{counts.get(1, 0)} answered once, "
                         f"{len(commands) - counts.get(1, 0)} not once; last answer "
                         f"{last - launched:.0f} s after restart ({len(commands)} ÷ rate = "
                         f"{expected_s:.0f} s)", "each once, at the homeserver's pace",
                         counts.get(1, 0) == len(commands))

    async def storm(self, due: datetime, rate: float) -> None:
        goal = self.args.storm / rate + 2
        def found() -> dict[int, list[Seen]]:
            seen: dict[int, list[Seen]] = defaultdict(list)
            for s in self.observer.seen:
                match = STORM_TEXT.match(str(s.content.get("body", "")))
                if match and s.sender == self.club.bot_id:
                    seen[int(match.group(1))].append(s)
            return seen
        at_due = await self.processor_times_at(due)
        on_time = (datetime.now(UTC) - due).total_seconds() < 1
        wait = (due - datetime.now(UTC)).total_seconds() + 3 * goal + 60
        await self.observer.until(lambda: len(found()) >= self.args.storm, wait, "storm",
                                  self.children)
        self.storm_pace(at_due if on_time else None, len(found()))
        await asyncio.sleep(5)
        seen = found()
        late = [(s[0].event["origin_server_ts"] / 1000 - due.timestamp()) for s in seen.values()]
        twice = sum(1 for s in seen.values() if len(s) > 1)
        p99 = p(late, 0.99)
        self.figures.add(f"reminder storm: {self.args.storm} due at the same second",
                         f"lateness p50 {p(late, 0.5):.1f} s, p99 {p99:.1f} s, max "
                         f"{max(late):.1f} s; {twice} sent twice",
                         f"p99 ≤ {self.args.storm} ÷ rate + 2 = {goal:.1f} s, none twice",
                         p99 <= goal and not twice)

    def processor_times(self) -> tuple[float, float, float]:
        """The homeserver's and cct-bot's processor time so far, and the loop's time."""
        assert self.bot is not None and self.server.pid is not None
        return (cpu_seconds(self.server.pid), cpu_seconds(self.bot.process.pid),
                asyncio.get_running_loop().time())

    async def processor_times_at(self, at: datetime) -> tuple[float, float, float]:
        await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
        return self.processor_times()

    def storm_pace(self, at_due: tuple[float, float, float] | None, sent: int) -> None:
        """The storm's messages a second, and the share of a core the homeserver and cct-bot
        (its process: not PostgreSQL's) used, from its due time until its last message was
        seen: a homeserver near 100 % is near its ceiling (one process, one core). Not
        measured when the bench reached the due time late (the catch-up ran over)."""
        what = "reminder storm's pace (due → last seen) and processor time"
        if at_due is None:
            self.figures.add(what, "not measured (the due time passed before the sampling)", "")
            return
        server, bot, elapsed = (end - start for end, start in
                                zip(self.processor_times(), at_due, strict=True))
        self.figures.add(what, f"{sent / elapsed:.0f} messages/s; homeserver "
                               f"{server / elapsed:.0%} of a core, cct-bot {bot / elapsed:.0%}", "")

    def stalls(self) -> None:
        """The loop's longest stall in each phase, and over all of them (starts included), with
        the processor time of the loop's thread and of the whole process during it."""
        longest = (0.0, 0.0, 0.0)
        for name, start, end in self.figures.phases:
            worst = longest_stall(self.probe, start, end)
            longest = max(longest, worst)
            self.figures.add(f"longest loop stall, {name}", stall_text(worst), "")
        self.figures.add("longest loop stall during all of the above (every phase, starts "
                         "included)", stall_text(longest),
                         f"≤ {GOALS['stall']:.0f} ms", longest[0] <= GOALS["stall"])
        windows = [json.loads(line) for line in self.probe.read_text().splitlines()]
        work = max((w["process_ms"] for w in windows for name, start, end in self.figures.phases
                    if start - 0.1 <= w["t"] <= end), default=0.0)
        self.figures.add("longest processor time of cct-bot's process in one stall (all its "
                         "threads, the probe's sampling included; the rest of a stall is the host)",
                         f"{work:.0f} ms", f"≤ {GOALS['stall']:.0f} ms", work <= GOALS["stall"])

    sizes: Sizes
