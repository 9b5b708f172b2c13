"""What a process's memory is made of, on demand: ``install(PATH)`` makes ``SIGUSR1`` append one
JSON line to ``PATH``: the RSS, the Python heap as the allocator reports it, the live objects by
type (the 25 most numerous), the RSS again after ``malloc_trim(0)`` (memory the C allocator kept
but Python freed) and, when ``tracemalloc`` runs (``PYTHONTRACEMALLOC=N``), the 25 places that
hold the most of it, with their growth since the previous dump. Used by ``bench.club_scale
--memory`` in cct-bot's process through ``bench/probe_site/sitecustomize.py``."""

from __future__ import annotations

import asyncio
import collections
import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ENV = "CCT_BENCH_MEM_PROBE"
TOP = 25


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def malloc_kib() -> dict[str, int]:
    """glibc's view: what its arenas took from the system, what is allocated in them, what
    is free in them, and what it mapped for large blocks (KiB)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {}
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return {"system": info.arena // 1024, "in_use": info.uordblks // 1024,
            "free": info.fordblks // 1024, "mapped": info.hblkhd // 1024}


def trimmed_kib() -> int | None:
    """The RSS after glibc gives back what it can; None where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "malloc_trim"):
        return None
    libc.malloc_trim(0)
    return rss_kib()


def mappings_kib() -> dict[str, Any]:
    """The RSS of the heap, of the other anonymous mappings (the threads' malloc arenas,
    pymalloc's arenas, large allocations) and of files, from ``/proc/self/smaps``; and the
    anonymous mappings above 1 MiB of RSS, largest first (a thread's malloc arena is one)."""
    kinds = {"heap": 0, "anonymous": 0, "files": 0}
    large: list[int] = []
    kind = "files"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:
            name = fields[5] if len(fields) > 5 else ""
            kind = "heap" if name == "[heap]" else "anonymous" if not name.startswith("/") \
                else "files"
        elif fields and fields[0] == "Rss:":
            kinds[kind] += int(fields[1])
            if kind == "anonymous" and int(fields[1]) > 1024:
                large.append(int(fields[1]))
    return {**kinds, "large_anonymous": sorted(large, reverse=True)}


def objects_by_type() -> list[tuple[str, int]]:
    """The live objects the collector tracks, by type (``gc.freeze`` hides those frozen)."""
    counts: collections.Counter[str] = collections.Counter(
        type(o).__qualname__ for o in gc.get_objects())
    return counts.most_common(TOP)


class Dumper:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous: tracemalloc.Snapshot | None = None

    def traced(self) -> list[dict[str, Any]]:
        if not tracemalloc.is_tracing():
            return []
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)])
        stats: list[Any]
        if self.previous is None:
            stats = snapshot.statistics("traceback")
        else:
            stats = snapshot.compare_to(self.previous, "traceback")
        self.previous = snapshot
        stats.sort(key=lambda stat: -abs(getattr(stat, "size_diff", stat.size)))
        return [{"kib": round(stat.size / 1024, 1),
                 "growth_kib": round(getattr(stat, "size_diff", 0) / 1024, 1),
                 "count": stat.count, "where": stat.traceback.format(limit=6)}
                for stat in stats[:TOP]]

    def dump(self, *_: object) -> None:
        gc.collect()
        before = rss_kib()
        line = {"t": round(time.time(), 3), "rss_kib": before, "mappings": mappings_kib(),
                "malloc": malloc_kib(),
                "blocks": sys.getallocatedblocks(), "objects": objects_by_type(),
                "traced": self.traced(), "rss_trimmed_kib": trimmed_kib()}
        with self.path.open("a") as out:
            out.write(json.dumps(line) + "\n")


def install(path: str) -> None:
    signal.signal(signal.SIGUSR1, Dumper(Path(path)).dump)


def memory_env(frames: int | None, path: Path) -> dict[str, str]:
    """The probe's variables for a process: none without ``frames``, tracemalloc's too when
    ``frames`` > 0."""
    if frames is None:
        return {}
    return {ENV: str(path), **({"PYTHONTRACEMALLOC": str(frames)} if frames else {})}


async def dump_memory(pid: int, path: Path, timeout_s: float = 300) -> None:
    """Asks process ``pid`` for a dump into ``path`` and waits for it (with tracemalloc it
    takes a while)."""
    def lines() -> int:
        return len(path.read_text().splitlines()) if path.exists() else 0

    count = lines()
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while lines() == count and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


def main(argv: list[str]) -> None:
    """``python -m bench.mem_probe PATH``: each dump's figures, and how the second differs from
    the first (in ``bench.club_scale``: the same process, after its latency rounds)."""
    dumps = [json.loads(line) for line in Path(argv[0]).read_text().splitlines()]
    for dump in dumps:
        print(f"{time.strftime('%H:%M:%S', time.localtime(dump['t']))}: RSS "
              f"{dump['rss_kib'] / 1024:.1f} MiB, after malloc_trim "
              f"{(dump['rss_trimmed_kib'] or 0) / 1024:.1f} MiB, {dump['blocks']} blocks, "
              + ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in dump["mappings"].items()
                          if isinstance(v, int)))
        print("    glibc (MiB): " + ", ".join(
            f"{k} {v / 1024:.1f}" for k, v in dump.get("malloc", {}).items()))
        print("    anonymous mappings over 1 MiB (MiB): " + " ".join(
            f"{v / 1024:.1f}" for v in dump["mappings"]["large_anonymous"]))
    if len(dumps) < 2:
        return
    first, last = dict(dumps[0]["objects"]), dict(dumps[1]["objects"])
    print("objects the collector tracks (not frozen), first → second dump:")
    for name in sorted(set(first) | set(last), key=lambda n: -(last.get(n, 0) - first.get(n, 0))):
        print(f"  {name}: {first.get(name, 0)} → {last.get(name, 0)}")
    for stat in dumps[1]["traced"]:
        print(f"{stat['growth_kib']:+.1f} KiB ({stat['kib']} KiB, {stat['count']} blocks)")
        print("    " + "\n    ".join(stat["where"]))


if __name__ == "__main__":
    main(sys.argv[1:])
