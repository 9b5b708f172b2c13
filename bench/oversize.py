"""Long replies as a fault: `!cadre` with a charter over the homeserver's limit, asked again
and again in one room, while `!ping` is timed in another room.

    CCT_SYNAPSE_PYTHON=… .venv/bin/python -m bench.oversize [--n 40] [--lines 350]
                                                            [--encrypted]

One fresh Synapse; cct-bot **in this process** (so that its event loop can be watched: a task
wakes every 5 ms and records how late it woke), the person's client in a process of its own
(its work on 70 KB events must not weigh on the bot's loop). Two rooms with the bot: the long
one (`--encrypted`: encrypted) and the ping room. First `--n` pings alone (the baseline), then
`--n` pings while a `!cadre` is asked in the long room before each (each answer in 2–3 parts at
`--lines 350`, about 70 KB; as a file and a summary past about 1,100 lines). Prints the p50 /
p99 of the ping's latency (sent → reply received) and the event loop's longest stall in each
phase. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bot.app import Bot
from bot.config import parse_settings
from devtools.devserver import LocalSynapse, find_synapse_python
from tests.integration.matrix_user import MatrixUser

TICK_S = 0.005
LINE = "Nous nous engageons à écouter chacun, à agir ensemble et à décider en commun — {n}."


class Watch:
    """How late a task waking every ``TICK_S`` wakes: the event loop's stalls. ``worst`` is
    the longest; ``busiest`` the longest part of a stall spent running the loop's own code
    (the main thread's CPU time meanwhile), not waiting for a CPU on a loaded machine, or for
    the GIL held by another thread."""

    def __init__(self) -> None:
        self.worst = self.busiest = 0.0

    def reset(self) -> None:
        self.worst = self.busiest = 0.0

    async def run(self) -> None:
        while True:
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK_S)
            late = time.perf_counter() - before - TICK_S
            self.worst = max(self.worst, late)
            self.busiest = max(self.busiest, min(late, time.thread_time() - cpu))


async def timed_ping(person: MatrixUser, room: str, timeout: float = 120) -> float:
    started = time.perf_counter()
    event_id = await person.send_text(room, "!ping")
    await person.wait_for_reply(room, event_id, timeout=timeout)
    return time.perf_counter() - started


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def person(conn: Connection, base: str, python: str, port: int, bot_id: str, n: int,
           encrypted: bool) -> None:
    """The person, in a process of their own (their client's work, decrypting and checking
    70 KB events, must not weigh on the bot's event loop): makes the rooms, then times the
    pings of each phase, telling the bot's side when a phase starts and ends."""

    async def act() -> None:
        server = LocalSynapse(Path(base), python=python, port=port)
        me = await MatrixUser.create(server, "bench", encryption=True)
        try:
            long_room = await me.create_room(name="Long", invite=[bot_id], encrypted=encrypted)
            ping_room = await me.create_room(name="Ping", invite=[bot_id])
            conn.send((me.user_id, long_room))
            for room in (long_room, ping_room):
                await me.wait_membership(room, bot_id, timeout=120)
            for _ in range(3):  # warm up: keys shared, first syncs done
                await timed_ping(me, ping_room)
            for phase in ("alone", "with !cadre"):
                conn.send(("start", phase))
                samples = []
                for _ in range(n):
                    if phase != "alone":
                        await me.send_text(long_room, "!cadre")
                    samples.append(await timed_ping(me, ping_room))
                conn.send(("end", phase, samples))
            await timed_ping(me, ping_room)  # the last answers have arrived
            answers = [e for e in me.events.get(long_room, []) if getattr(e, "sender", "")
                       == bot_id and isinstance(getattr(e, "body", None), str)]
            conn.send(("answers", len(answers)))
        finally:
            await me.close()

    asyncio.run(act())


async def run(args: argparse.Namespace, server: LocalSynapse, work: Path,
              python: str) -> list[str]:
    bot_id = server.register("cctbench", "bot-pw")
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=person, args=(child, str(server.base_dir), python, server.port, bot_id, args.n,
                             args.encrypted), daemon=True)
    process.start()
    who, long_room = await asyncio.to_thread(parent.recv)
    charter = "\n".join(f"{n}. " + LINE.format(n=n) for n in range(1, args.lines + 1))
    settings = parse_settings({
        "matrix": {"homeserver": server.url, "user_id": bot_id, "password": "bot-pw",
                   "device_id": "OVERSIZE", "store_path": "store"},
        "database": {"url": "sqlite+aiosqlite:///cct.db"},
        "club": {"charter": charter, "allowed_inviters": [who], "coordinators": [who]},
        "rooms": {"main": long_room},
        "limits": {"commands_per_minute": 0}}, base=work, env={})
    bot = Bot(settings)
    await bot.start()
    watch = Watch()
    watcher = asyncio.create_task(watch.run())
    lines: list[str] = []
    try:
        while True:
            message = await asyncio.to_thread(parent.recv)
            if message[0] == "start":
                watch.reset()
            elif message[0] == "end":
                samples = message[2]
                lines.append(f"| {message[1]} | {percentile(samples, 50) * 1000:.0f} ms | "
                             f"{percentile(samples, 99) * 1000:.0f} ms | "
                             f"{watch.worst * 1000:.0f} ms | {watch.busiest * 1000:.0f} ms |")
            else:
                lines.append(f"\n{message[1]} messages of the bot in the long room "
                             f"(`--lines {args.lines}`, "
                             f"{'encrypted' if args.encrypted else 'plain'}, `--n {args.n}`)")
                break
    finally:
        watcher.cancel()
        await bot.stop()
        process.join(30)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--lines", type=int, default=350)
    parser.add_argument("--encrypted", action="store_true")
    args = parser.parse_args()
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cct-bench-oversize-"))
    server = LocalSynapse(work / "synapse", python=python)
    try:
        server.start()
        lines = asyncio.run(run(args, server, work, python))
        print("| `!ping` in another room | p50 | p99 | longest event-loop stall | of which "
              "running the bot's code |\n|---|---|---|---|---|")
        print("\n".join(lines))
        return 0
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
