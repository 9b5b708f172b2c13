"""How long the event loop of a process stops: ``install(PATH)`` wraps ``asyncio.run`` so that a
probe task runs beside the program's main coroutine; it sleeps 5 ms again and again and, for each
100 ms window, appends one line to ``PATH``: the window's wall-clock start, the longest lateness
of its wake-ups (ms), that is the longest time the loop was busy with something else or the
process was not given the processor, how much of that lateness the loop's thread spent on the
processor (ms), and how much all the process's threads did (ms: a thread of the program holding
the interpreter's lock stalls the loop too; what none of them spent is a loaded host). Used by
``bench.faults`` in cct-bot's process through ``bench/probe_site/sitecustomize.py``.

Beside it a watchdog thread samples the loop thread's stack every ``SAMPLE_S`` while the probe
is more than ``STALL_S`` late, and appends each such stall to ``PATH.stalls`` (its start, wall
and processor ms, and the distinct stacks seen with their counts): what the loop was running.
``python -m bench.loop_probe PATH.stalls`` prints them, longest first."""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

ENV = "CCT_BENCH_LOOP_PROBE"
SITE = Path(__file__).resolve().parent / "probe_site"
TICK_S = 0.005
WINDOW_S = 0.1
STALL_S = 0.02
SAMPLE_S = 0.005
GC_MS = 10.0


class Watchdog(threading.Thread):
    """Samples the loop thread's stack while the probe's wake-up is overdue by ``STALL_S``."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(name="loop-watchdog", daemon=True)
        self.out = out
        self.loop_thread = threading.get_ident()
        self.tick = time.perf_counter()  # the probe's last wake-up
        self.clock = time.pthread_getcpuclockid(self.loop_thread)
        self.stopped = False  # the program ended: its files are closed

    def run(self) -> None:
        stacks: collections.Counter[str] = collections.Counter()
        seen_tick, cpu_at_tick, cpu_at_stall = self.tick, time.clock_gettime(self.clock), 0.0
        while not self.stopped:
            time.sleep(SAMPLE_S)
            overdue = time.perf_counter() - self.tick - TICK_S
            if self.tick != seen_tick:
                cpu_at_tick = time.clock_gettime(self.clock)
            if overdue > STALL_S and self.tick == seen_tick:
                if not stacks:
                    cpu_at_stall = cpu_at_tick
                frame = sys._current_frames().get(self.loop_thread)
                if frame is not None:
                    stacks["".join(traceback.format_stack(frame, limit=25))] += 1
            elif stacks and self.tick != seen_tick:
                self.dump(stacks, seen_tick, (cpu_at_tick - cpu_at_stall) * 1000)
                stacks = collections.Counter()
            seen_tick = self.tick

    def watch_collections(self) -> Callable[[], None]:
        """Appends each garbage collection of generation 2, or of more than ``GC_MS``, to the
        stalls' file: the collector runs inside whatever allocates, so a stack alone hides it."""
        started = [0.0, 0.0]

        def callback(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started[:] = [time.perf_counter(), time.thread_time()]
                return
            wall = (time.perf_counter() - started[0]) * 1000
            if info["generation"] == 2 or wall > GC_MS:
                self.out.write(json.dumps({
                    "t": round(time.time(), 3), "gc": info["generation"],
                    "wall_ms": round(wall, 1),
                    "cpu_ms": round((time.thread_time() - started[1]) * 1000, 1),
                    "collected": info["collected"], "tracked": len(gc.get_objects(2))
                    if info["generation"] == 2 else None}) + "\n")

        gc.callbacks.append(callback)
        return lambda: gc.callbacks.remove(callback)

    def dump(self, stacks: collections.Counter[str], tick: float, cpu_ms: float) -> None:
        wall = (self.tick - tick) * 1000
        self.out.write(json.dumps({"t": round(time.time() - (time.perf_counter() - tick), 3),
                                   "wall_ms": round(wall, 1), "cpu_ms": round(cpu_ms, 1),
                                   "stacks": stacks.most_common()}) + "\n")


async def probe(out: TextIO, watchdog: Watchdog) -> None:
    window_start, worst, worst_cpu, worst_process = time.time(), 0.0, 0.0, 0.0
    while True:
        before, before_cpu, before_process = \
            time.perf_counter(), time.thread_time(), time.process_time()
        await asyncio.sleep(TICK_S)
        watchdog.tick = time.perf_counter()
        late = (time.perf_counter() - before - TICK_S) * 1000
        if late > worst:
            worst, worst_cpu, worst_process = late, (time.thread_time() - before_cpu) * 1000, \
                (time.process_time() - before_process) * 1000
        now = time.time()
        if now - window_start >= WINDOW_S:
            out.write(json.dumps({"t": round(window_start, 3), "max_ms": round(worst, 1),
                                  "cpu_ms": round(worst_cpu, 1),
                                  "process_ms": round(worst_process, 1)}) + "\n")
            window_start, worst, worst_cpu, worst_process = now, 0.0, 0.0, 0.0


def install(path: str) -> None:
    original = asyncio.run

    def run(main: Coroutine[Any, Any, Any], **kwargs: Any) -> Any:
        async def probed() -> Any:
            with Path(path).open("a", buffering=1) as out, \
                    Path(path + ".stalls").open("a", buffering=1) as stalls:  # noqa: ASYNC230
                watchdog = Watchdog(stalls)
                watchdog.start()
                unwatch = watchdog.watch_collections()
                task = asyncio.create_task(probe(out, watchdog), name="loop-probe")
                try:
                    return await main
                finally:
                    task.cancel()
                    unwatch()
                    watchdog.stopped = True

        return original(probed(), **kwargs)

    asyncio.run = run


def longest_stall(path: Path, start: float, end: float) -> tuple[float, float, float]:
    """The longest stall (ms) recorded in ``path`` between the wall-clock times ``start`` and
    ``end``, the processor time the loop's thread spent during it, and the process's (ms)."""
    worst = (0.0, 0.0, 0.0)
    if not path.exists():
        return worst
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if start - WINDOW_S <= record["t"] <= end and record["max_ms"] > worst[0]:
            worst = (float(record["max_ms"]), float(record["cpu_ms"]),
                     float(record["process_ms"]))
    return worst


def stall_text(stall: tuple[float, float, float]) -> str:
    """A stall from ``longest_stall``: its wall-clock time, and its processor times."""
    wall, thread, process = stall
    return f"{wall:.0f} ms (CPU: the loop's thread {thread:.0f} ms, the process {process:.0f} ms)"


def print_stalls(path: Path, top: int = 10) -> None:
    """The ``top`` longest stalls recorded by the watchdog, each with its stacks."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        if "gc" in record:
            print(f"gc {time.strftime('%H:%M:%S', time.gmtime(record['t']))} generation "
                  f"{record['gc']}: {record['wall_ms']:.0f} ms (CPU {record['cpu_ms']:.0f} ms), "
                  f"{record['collected']} collected, {record['tracked']} tracked in gen 2")
    records = [record for record in records if "gc" not in record]
    for record in sorted(records, key=lambda r: -r["wall_ms"])[:top]:
        print(f"=== {time.strftime('%H:%M:%S', time.gmtime(record['t']))} "
              f"{record['wall_ms']:.0f} ms (CPU {record['cpu_ms']:.0f} ms), "
              f"{sum(n for _, n in record['stacks'])} samples")
        for stack, count in record["stacks"]:
            print(f"--- ×{count}\n{stack}")


if __name__ == "__main__":
    print_stalls(Path(sys.argv[1]))
