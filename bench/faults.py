"""Faults, measured: during each, the longest stall of cct-bot's event loop and the latency of
`!ping` in another room, against the same without a fault.

    .venv/bin/python -m bench.faults [--n 40] [--faults sqlite-lock,no-moderator,…] [--keep]

One fresh Synapse, one cct-bot process (SQLite) with a probe in its event loop
(``bench/loop_probe.py``, through ``bench/probe_site`` on its ``PYTHONPATH``), one client. Rooms:
the club's main room (A), a rencontre's room where the bot is not a moderator (« nord »), and a
room of its own for the pings (B). First ``--n`` pings in B without a fault (after a warm-up);
then, for each fault, the fault runs while the client keeps sending ``!ping`` in B, one at a
time, until the fault is over and at least ``--window`` seconds have passed. Prints, per phase:
the longest stall of the bot's loop (ms), the pings' p50 / p99 (ms) and the p50's ratio to the
one without fault, against the goal (stall ≤ 50 ms, p50 ≤ 1.2×), and what became of the fault's
own command. Figures, not a test: nothing here is asserted by pytest.

A fault is one async function taking the ``Scene`` and returning a short note on how its own
work ended; add one to ``FAULTS``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nio import MatrixRoom, RoomMessageNotice

from bench.latency import (
    Child,
    clean_up,
    guarded,
    load_average,
    synapse_version,
    write_config,
)
from bench.loop_probe import ENV as PROBE_ENV
from bench.loop_probe import SITE as PROBE_SITE
from bench.loop_probe import longest_stall
from devtools.devserver import LocalSynapse, find_synapse_python
from tests.integration.matrix_user import MatrixUser, reply_target
from tests.lock_holder import LockHolder

STALL_GOAL_MS = 50.0
P50_GOAL = 1.2
REPLY_WAIT_S = 60.0


@dataclass
class Scene:
    """What a fault can use: the homeserver, the client, the rooms, the bot's database file."""

    server: LocalSynapse
    client: MatrixUser
    bot_id: str
    main: str
    north: str
    pings: str
    database: Path
    children: list[Child]
    arrivals: dict[str, float] = field(default_factory=dict)  # replied-to event -> monotonic

    async def ask(self, room: str, text: str, replies: int = 1) -> list[str]:
        """Sends ``text`` in ``room``; the bodies of the first ``replies`` replies to it."""
        event_id = await self.client.send_text(room, text)

        async def answered() -> list[str]:
            while len(found := self.client.replies_to(room, event_id)) < replies:
                await asyncio.sleep(0.05)
            return [event.body for event in found]

        return await guarded(answered(), self.children, REPLY_WAIT_S)

    def replies(self, room: str, event_id: str) -> list[str]:
        return [event.body for event in self.client.replies_to(room, event_id)]


Fault = Callable[[Scene], Coroutine[Any, Any, str]]


async def sqlite_lock(scene: Scene, held_s: float = 10.0) -> str:
    """Another process holds the write lock of the bot's SQLite file for ``held_s`` seconds;
    meanwhile a command that writes is sent in the main room."""
    async with LockHolder(scene.database) as other:
        started = time.monotonic()
        event_id = await scene.client.send_text(scene.main, "!rappel dans 3 jours bench")
        await asyncio.sleep(held_s - (time.monotonic() - started))
        during = len(scene.replies(scene.main, event_id))
        await other.release()
    freed = time.monotonic()

    def answers() -> list[str]:
        return [body for body in scene.replies(scene.main, event_id) if "occupée" not in body]

    async def answered() -> None:
        while not answers():
            await asyncio.sleep(0.05)

    await guarded(answered(), scene.children, REPLY_WAIT_S)
    after_ms = (time.monotonic() - freed) * 1000
    await asyncio.sleep(1)  # anything more would come now
    bodies = scene.replies(scene.main, event_id)
    return (f"the write: {len(answers())} answer(s) (« {answers()[0][:40]}… »), "
            f"{after_ms:.0f} ms after the lock was freed; {len(bodies) - len(answers())} "
            f"« occupée » notice(s); {during} message(s) during the lock")


async def no_moderator(scene: Scene) -> str:
    """The bot publishes a rencontre's agenda in a room where it is not a moderator: the pin is
    refused, the room is told why."""
    day = datetime.now(UTC) + timedelta(days=10)
    await scene.ask(scene.main, f"!rencontre planifier {day.day:02d}/{day.month:02d}/"
                                f"{day.year} 18h30 --territoire nord")
    await scene.ask(scene.main, "!odj ajouter Accueil")
    published = (await scene.ask(scene.main, "!odj publier"))[0]

    async def told() -> str:
        while True:
            for event in scene.client.events.get(scene.north, []):
                body = getattr(event, "body", "")
                if isinstance(event, RoomMessageNotice) and body.startswith("Impossible"):
                    return str(body)
            await asyncio.sleep(0.05)

    notice = await guarded(told(), scene.children, REPLY_WAIT_S)
    claims_pin = "épingl" in published
    return (f"reply {'claims' if claims_pin else 'does not claim'} a pin; the room is told: "
            f"« {notice[:60]}… »")


async def failing_invite(scene: Scene) -> str:
    """A group with a member whose server does not exist (written into the bot's database, as
    a member whose server has gone since), then its room: the bot's invite of that member
    into the room fails every time."""
    await scene.ask(scene.main, "!projet creer Vélo")
    await asyncio.to_thread(_add_member, scene.database, "velo", "@x:dead.invalid")
    await scene.ask(scene.main, "!projet salon velo")

    async def room_made() -> None:
        while not any("Salon créé" in getattr(event, "body", "")
                      for event in scene.client.events.get(scene.main, [])):
            await asyncio.sleep(0.05)

    await guarded(room_made(), scene.children, REPLY_WAIT_S)
    return "the room is created, its members invited"


def _add_member(database: Path, slug: str, user_id: str) -> None:
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute(
            "INSERT INTO group_members (group_id, user_id, joined_at, referent) "
            "SELECT group_id, ?, joined_at, 0 FROM group_members WHERE group_id = "
            "(SELECT id FROM project_groups WHERE slug = ?) LIMIT 1", (user_id, slug))
    connection.close()


# The order they run in: a fault whose effect lasts (a failing invite) comes last.
FAULTS: dict[str, Fault] = {"sqlite-lock": sqlite_lock, "no-moderator": no_moderator,
                            "failing-invite": failing_invite}


@dataclass
class Phase:
    name: str
    pings: list[float]  # answered
    stall_ms: float
    stall_cpu_ms: float
    note: str = ""
    lost: int = 0  # not answered within ``--ping-timeout``


def percentile(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


class Bench:
    def __init__(self, args: argparse.Namespace, server: LocalSynapse, work: Path) -> None:
        self.args = args
        self.server = server
        self.work = work
        self.children: list[Child] = []
        self.probe = work / "loop-probe.jsonl"

    async def setup(self) -> Scene:
        client = await MatrixUser.create(self.server, "bench")
        bot_id = self.server.register("cctbot", "cctbot-pw")
        main = await client.create_room(name="CCT", invite=[bot_id])
        north = await client.create_room(name="CCT Nord", invite=[bot_id])  # the bot: level 0
        pings = await client.create_room(name="pings", invite=[bot_id])
        folder = self.work / "cct-bot"
        folder.mkdir()
        database = folder / "cct.db"
        write_config(folder / "config.toml", {
            "matrix": {"homeserver": self.server.url, "user_id": bot_id, "password": "cctbot-pw",
                       "device_id": "CCTFAULTS", "store_path": str(folder / "store")},
            "database": {"url": f"sqlite+aiosqlite:///{database}"},
            "club": {"allowed_inviters": [client.user_id], "coordinators": [client.user_id]},
            "rooms": {"main": main, "north": north},
            "limits": {"commands_per_minute": 0},  # the pings measure latency, not the rate
            "logging": {"level": "INFO"}})
        env = {PROBE_ENV: str(self.probe), "PYTHONPATH": str(PROBE_SITE)}
        self.children.append(Child("cct-bot", [sys.executable, "-m", "bot.cli", "run", "--config",
                                               str(folder / "config.toml")],
                                   self.work / "cct-bot.log", env))
        for room in (main, north, pings):
            await guarded(client.wait_membership(room, bot_id, timeout=120), self.children, 130)
        scene = Scene(self.server, client, bot_id, main, north, pings, database, self.children)
        client.client.add_event_callback(self._stamp(scene), RoomMessageNotice)
        return scene

    @staticmethod
    def _stamp(scene: Scene) -> Callable[[MatrixRoom, RoomMessageNotice], None]:
        def stamp(room: MatrixRoom, event: RoomMessageNotice) -> None:
            target = reply_target(event)
            if room.room_id == scene.pings and target is not None:
                scene.arrivals.setdefault(target, time.monotonic())
        return stamp

    async def ping(self, scene: Scene) -> float | None:
        """One ``!ping`` in the pings' room: ms from just before the send to its reply; ``None``
        if no reply came within ``--ping-timeout``."""
        started = time.monotonic()
        event_id = await scene.client.send_text(scene.pings, "!ping")

        async def answered() -> float:
            while event_id not in scene.arrivals:
                await asyncio.sleep(0.002)
            return (scene.arrivals[event_id] - started) * 1000

        try:
            return await guarded(answered(), self.children, self.args.ping_timeout)
        except TimeoutError:
            return None

    async def phase(self, scene: Scene, name: str, fault: Fault | None) -> Phase:
        wall, started = time.time(), time.monotonic()
        work = asyncio.create_task(fault(scene)) if fault else None
        samples: list[float] = []
        lost = 0
        while True:
            latency = await self.ping(scene)
            if latency is None:
                lost += 1
            else:
                samples.append(latency)
            if work is None and len(samples) + lost >= self.args.n:
                break
            if work is not None and work.done() and \
                    time.monotonic() - started >= self.args.window:
                break
            if work is not None and work.done() and work.exception() is not None:
                break
        note = await work if work else ""
        await asyncio.sleep(0.3)  # the probe's last window
        stall, cpu = longest_stall(self.probe, wall, time.time())
        return Phase(name, samples, stall, cpu, note, lost)

    async def run(self, scene: Scene) -> list[Phase]:
        for _ in range(self.args.warmup):
            await self.ping(scene)
        phases = [await self.phase(scene, "no fault", None)]
        for name in self.args.faults:
            print(f"fault: {name} ...", file=sys.stderr, flush=True)
            phases.append(await self.phase(scene, name, FAULTS[name]))
        return phases


def report(phases: list[Phase], header: str) -> str:
    base = statistics.median(phases[0].pings) if phases[0].pings else float("nan")
    lines = [header, "",
             "| phase | pings answered | lost | longest loop stall (its CPU) | `!ping` p50 | p99 | "
             "p50 ÷ no fault | goal (stall ≤ 50 ms, p50 ≤ 1.2×) |",
             "|---|---|---|---|---|---|---|---|"]
    for phase in phases:
        if not phase.pings:
            lines.append(f"| {phase.name} | 0 | {phase.lost} | {phase.stall_ms:.0f} ms "
                         f"({phase.stall_cpu_ms:.0f} ms) | — | — | — | NO |")
            continue
        p50 = statistics.median(phase.pings)
        ok = phase.stall_ms <= STALL_GOAL_MS and p50 <= P50_GOAL * base and not phase.lost
        lines.append(f"| {phase.name} | {len(phase.pings)} | {phase.lost} | "
                     f"{phase.stall_ms:.0f} ms ({phase.stall_cpu_ms:.0f} ms) | {p50:.0f} ms | "
                     f"{percentile(phase.pings, 99):.0f} ms | {p50 / base:.2f} | "
                     f"{'yes' if ok else 'NO'} |")
    notes = [f"- {phase.name}: {phase.note}" for phase in phases if phase.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="pings without fault")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--window", type=float, default=10.0,
                        help="seconds of pings at least during each fault")
    parser.add_argument("--faults", type=lambda text: text.split(","),
                        default=list(FAULTS), help=f"among {', '.join(FAULTS)}")
    parser.add_argument("--ping-timeout", type=float, default=30.0,
                        help="seconds after which a ping without reply counts as lost")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.faults if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON or create .venv-synapse", file=sys.stderr)
        return 2
    logging.getLogger("nio").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="cct-bench-faults-"))
    server = LocalSynapse(work / "synapse", python=python)
    bench = Bench(args, server, work)
    try:
        print(f"setting up in {work} ...", file=sys.stderr, flush=True)
        server.start()

        async def measure() -> list[Phase]:
            scene = await bench.setup()
            try:
                return await bench.run(scene)
            finally:
                await scene.client.close()

        load_before = load_average()
        phases = asyncio.run(measure())
        header = (f"faults, {time.strftime('%Y-%m-%d %H:%M')}, Synapse {synapse_version(python)}; "
                  f"{args.n} pings without fault (+{args.warmup} warm-up), at least "
                  f"{args.window:.0f} s of pings during each fault; load average {load_before} "
                  f"before, {load_average()} after")
        print(report(phases, header))
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        clean_up(bench.children, server, work, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
