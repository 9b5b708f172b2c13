"""How long the event loop of a process stops: ``install(PATH)`` wraps ``asyncio.run`` so that a
probe task runs beside the program's main coroutine; it sleeps 5 ms again and again and, for each
100 ms window, appends one line to ``PATH``: the window's wall-clock start, the longest lateness
of its wake-ups (ms), that is the longest time the loop was busy with something else or the
process was not given the processor, and how much of that lateness the loop's thread spent on
the processor (ms: its work, not a wait nor a loaded host). Used by ``bench.faults`` in cct-bot's
process through ``bench/probe_site/sitecustomize.py``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

ENV = "CCT_BENCH_LOOP_PROBE"
SITE = Path(__file__).resolve().parent / "probe_site"
TICK_S = 0.005
WINDOW_S = 0.1


async def probe(out: TextIO) -> None:
    window_start, worst, worst_cpu = time.time(), 0.0, 0.0
    while True:
        before, before_cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(TICK_S)
        late = (time.perf_counter() - before - TICK_S) * 1000
        if late > worst:
            worst, worst_cpu = late, (time.thread_time() - before_cpu) * 1000
        now = time.time()
        if now - window_start >= WINDOW_S:
            out.write(json.dumps({"t": round(window_start, 3), "max_ms": round(worst, 1),
                                  "cpu_ms": round(worst_cpu, 1)}) + "\n")
            window_start, worst, worst_cpu = now, 0.0, 0.0


def install(path: str) -> None:
    original = asyncio.run

    def run(main: Coroutine[Any, Any, Any], **kwargs: Any) -> Any:
        async def probed() -> Any:
            with Path(path).open("a", buffering=1) as out:  # noqa: ASYNC230 (once, at start)
                task = asyncio.create_task(probe(out), name="loop-probe")
                try:
                    return await main
                finally:
                    task.cancel()

        return original(probed(), **kwargs)

    asyncio.run = run


def longest_stall(path: Path, start: float, end: float) -> tuple[float, float]:
    """The longest stall (ms) recorded in ``path`` between the wall-clock times ``start`` and
    ``end``, and the processor time the loop's thread spent during it (ms)."""
    worst = (0.0, 0.0)
    if not path.exists():
        return worst
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if start - WINDOW_S <= record["t"] <= end and record["max_ms"] > worst[0]:
            worst = (float(record["max_ms"]), float(record["cpu_ms"]))
    return worst
