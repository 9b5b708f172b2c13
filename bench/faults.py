"""Faults, measured: during each, the longest stall of cct-bot's event loop and the latency of
`!ping` in another room, against the same without a fault.

    .venv/bin/python -m bench.faults [--n 40] [--faults sqlite-lock,no-moderator,…] [--keep]

One fresh Synapse, one cct-bot process (SQLite) with a probe in its event loop
(``bench/loop_probe.py``, through ``bench/probe_site`` on its ``PYTHONPATH``; it also records
what the loop ran during each stall over ``loop_probe.STALL_S``), the bare nio echo bot
(``bench/echo_bot.py``) as a process, one client and a server on loopback that never answers.
Rooms: the club's main room, a rencontre's room where the bot is not a moderator (« nord »), a
plain and an encrypted room for long replies, a room of its own for the pings and one for the
echo bot's. First ``--n`` pings without a fault (after a warm-up); then, for each fault
(``bench/fault_kinds.py``), the fault runs while the client keeps sending ``!ping``, one at a
time, to cct-bot and to the echo bot in turns, until the fault is over and at least
``--window`` seconds have passed. Prints, per phase: the longest stall of the bot's loop (ms),
cct-bot's p50 / p99 (ms) and its p50's ratio to the one without fault, the same ratio for the
echo bot (how much the homeserver itself slowed down), cct-bot's ratio over the echo bot's
against the goal (stall ≤ 50 ms, ≤ 1.2×), and what became of the fault's own command. Figures,
not a test: nothing here is asserted by pytest."""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nio import MatrixRoom, RoomMessageNotice

from bench.fault_kinds import FAULTS, Fault, Scene, charter
from bench.harness import Live, guarded, load_average, run_live, synapse_version, write_config
from bench.loop_probe import ENV as PROBE_ENV
from bench.loop_probe import SITE as PROBE_SITE
from bench.loop_probe import longest_stall
from tests.integration.matrix_user import MatrixUser, reply_target
from tests.silent_server import silent_server

STALL_GOAL_MS = 50.0
P50_GOAL = 1.2
REQUEST_DEADLINE_S = 30  # the bot's matrix.request_timeout_seconds (its default)


@dataclass
class Phase:
    name: str
    pings: list[float]  # answered
    stall_ms: float
    stall_cpu_ms: float
    note: str = ""
    lost: int = 0  # not answered within ``--ping-timeout``
    echo: list[float] = field(default_factory=list)  # the bare nio echo bot's, answered


def percentile(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


class Bench:
    def __init__(self, args: argparse.Namespace, live: Live) -> None:
        self.args = args
        self.live = live
        self.children = live.children
        self.probe = live.work / "loop-probe.jsonl"

    async def setup(self, silent: str) -> Scene:
        server = self.live.server
        client = await MatrixUser.create(server, "bench", encryption=True,
                                         store_dir=self.live.work / "bench-store")
        bot_id = server.register("cctbot", "cctbot-pw")
        rooms = {name: await client.create_room(name=title, invite=[bot_id],
                                                encrypted=name == "long-e2e")
                 for name, title in (("main", "CCT"), ("north", "CCT Nord"), ("pings", "pings"),
                                     ("long", "long"), ("long-e2e", "long e2e"))}
        database = self.start_bot(bot_id, client.user_id, rooms)
        echo_id = server.register("echo", "echo-pw")
        rooms["echo"] = await client.create_room(name="echo", invite=[echo_id])
        self.live.spawn("echo-bot", [sys.executable, "-m", "bench.echo_bot", "--homeserver",
                                     server.url, "--user-id", echo_id, "--inviter",
                                     client.user_id], {"ECHO_BOT_PASSWORD": "echo-pw"})
        await guarded(client.wait_membership(rooms["echo"], echo_id, timeout=120),
                      self.children, 130)
        for name, room in rooms.items():
            if name != "echo":
                await guarded(client.wait_membership(room, bot_id, timeout=120),
                              self.children, 130)
        scene = Scene(server, client, bot_id, rooms, database, self.children, silent,
                      REQUEST_DEADLINE_S)
        client.client.add_event_callback(self._stamp(scene), RoomMessageNotice)
        return scene

    def start_bot(self, bot_id: str, person: str, rooms: dict[str, str]) -> Path:
        """cct-bot as a process, its loop probed; the main and north rooms are the club's (the
        bot is not a moderator in north); returns its database file."""
        folder = self.live.work / "cct-bot"
        folder.mkdir()
        database = folder / "cct.db"
        write_config(folder / "config.toml", {
            "matrix": {"homeserver": self.live.server.url, "user_id": bot_id,
                       "password": "cctbot-pw", "device_id": "CCTFAULTS",
                       "store_path": str(folder / "store"),
                       "request_timeout_seconds": REQUEST_DEADLINE_S},
            "database": {"url": f"sqlite+aiosqlite:///{database}"},
            "club": {"allowed_inviters": [person], "coordinators": [person],
                     "charter": charter()},
            "rooms": {"main": rooms["main"], "north": rooms["north"]},
            "limits": {"commands_per_minute": 0},  # the pings measure latency, not the rate
            "logging": {"level": "INFO"}})
        self.live.spawn("cct-bot", [sys.executable, "-m", "bot.cli", "run", "--config",
                                    str(folder / "config.toml")],
                        {PROBE_ENV: str(self.probe), "PYTHONPATH": str(PROBE_SITE)})
        return database

    @staticmethod
    def _stamp(scene: Scene) -> Callable[[MatrixRoom, RoomMessageNotice], None]:
        def stamp(room: MatrixRoom, event: RoomMessageNotice) -> None:
            target = reply_target(event)
            if room.room_id in (scene.rooms["pings"], scene.rooms["echo"]) and target is not None:
                scene.arrivals.setdefault(target, time.monotonic())
        return stamp

    async def ping(self, scene: Scene, room: str = "pings") -> float | None:
        """One ``!ping`` in ``room`` (cct-bot's ``pings``, or the echo bot's ``echo``): ms from
        just before the send to its reply; ``None`` if no reply came within ``--ping-timeout``."""
        started = time.monotonic()
        event_id = await scene.client.send_text(scene.rooms[room], "!ping")

        async def answered() -> float:
            while event_id not in scene.arrivals:
                await asyncio.sleep(0.002)
            return (scene.arrivals[event_id] - started) * 1000

        try:
            return await guarded(answered(), self.children, self.args.ping_timeout)
        except TimeoutError:
            return None

    async def pair(self, scene: Scene, turn: int) -> tuple[float | None, float | None]:
        """A ``!ping`` to cct-bot and one to the echo bot, one after the other, in turns
        first: cct-bot's latency, the echo bot's."""
        if turn % 2:
            floor = await self.ping(scene, "echo")
            return await self.ping(scene), floor
        latency = await self.ping(scene)
        return latency, await self.ping(scene, "echo")

    async def phase(self, scene: Scene, name: str, fault: Fault | None) -> Phase:
        wall, started = time.time(), time.monotonic()
        work = asyncio.create_task(fault(scene)) if fault else None
        samples: list[float] = []
        echo: list[float] = []
        lost = 0
        while True:
            latency, floor = await self.pair(scene, len(samples) + lost)
            if latency is None:
                lost += 1
            else:
                samples.append(latency)
            if floor is not None:
                echo.append(floor)
            if work is None and len(samples) + lost >= self.args.n:
                break
            if work is not None and work.done() and \
                    time.monotonic() - started >= self.args.window:
                break
            if work is not None and work.done() and work.exception() is not None:
                break
        note = await work if work else ""
        await asyncio.sleep(0.3)  # the probe's last window
        stall, cpu, _ = longest_stall(self.probe, wall, time.time())
        return Phase(name, samples, stall, cpu, note, lost, echo)

    async def run(self, scene: Scene) -> list[Phase]:
        for turn in range(self.args.warmup):
            await self.pair(scene, turn)
        phases = [await self.phase(scene, "no fault", None)]
        for name in self.args.faults:
            print(f"fault: {name} ...", file=sys.stderr, flush=True)
            phases.append(await self.phase(scene, name, FAULTS[name]))
        return phases


def report(phases: list[Phase], header: str) -> str:
    """The table: per phase, cct-bot's `!ping` p50 against its own without fault, and against
    the bare echo bot's measured in the same minutes (the homeserver's share of a slowdown)."""
    base = _median(phases[0].pings)
    echo_base = _median(phases[0].echo)
    lines = [header, "",
             "| phase | pings answered | lost | longest loop stall (its CPU) | `!ping` p50 | p99 | "
             "p50 ÷ no fault | echo bot p50 | its ÷ no fault | cct-bot's ÷ echo bot's | "
             "goal (stall ≤ 50 ms, p50 ≤ 1.2× the echo bot's slowdown) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for phase in phases:
        stall = f"{phase.stall_ms:.0f} ms ({phase.stall_cpu_ms:.0f} ms)"
        if not phase.pings:
            lines.append(f"| {phase.name} | 0 | {phase.lost} | {stall} | — | — | — | — | — | — "
                         "| NO |")
            continue
        p50, echo = _median(phase.pings), _median(phase.echo)
        slowdown, echo_slowdown = p50 / base, echo / echo_base
        relative = slowdown / echo_slowdown
        ok = phase.stall_ms <= STALL_GOAL_MS and relative <= P50_GOAL and not phase.lost
        lines.append(f"| {phase.name} | {len(phase.pings)} | {phase.lost} | {stall} | "
                     f"{p50:.0f} ms | {percentile(phase.pings, 99):.0f} ms | {slowdown:.2f} | "
                     f"{echo:.0f} ms | {echo_slowdown:.2f} | {relative:.2f} | "
                     f"{'yes' if ok else 'NO'} |")
    notes = [f"- {phase.name}: {phase.note}" for phase in phases if phase.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def _median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


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


def measure(args: argparse.Namespace, live: Live) -> int:
    """The phases on ``live``'s Synapse; prints their table."""
    bench = Bench(args, live)

    async def phases() -> list[Phase]:
        async with silent_server() as silent:
            scene = await bench.setup(silent)
            try:
                return await bench.run(scene)
            finally:
                await scene.client.close()

    load_before = load_average()
    measured = asyncio.run(phases())
    header = (f"faults, {time.strftime('%Y-%m-%d %H:%M')}, Synapse {synapse_version(live.python)}; "
              f"{args.n} pings without fault (+{args.warmup} warm-up), at least "
              f"{args.window:.0f} s of pings during each fault; load average {load_before} "
              f"before, {load_average()} after")
    print(report(measured, header))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("nio").setLevel(logging.ERROR)
    return run_live("faults", lambda live: measure(args, live), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
