"""SQLite's checkpoints and the event loop: write transactions through ``Database.transaction``
(run in the loop's thread), with the write-ahead log copied back by a worker thread
(``storage/sqlite_checkpoint.py``), or, with ``--in-commit``, by SQLite's own automatic
checkpoint in the commit that brings the log past 1,000 pages.

    .venv/bin/python -m bench.checkpoints [--n 5000] [--row-bytes 2000] [--in-commit]

Prints the event loop's longest stall (a task that wakes every millisecond measures how late
it is woken: what the rest of the bot waits), and each transaction's wall time, p50 / p99 /
max (ms), with how many took over 5 ms (with the worker thread, a writer waits, without
stopping the loop, for a checkpoint under way). Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.latency_rows import percentile
from storage.db import Database


def in_commit(dbapi_connection: Any, _record: Any) -> None:
    """SQLite's default: a checkpoint in the commit past 1,000 pages of log."""
    dbapi_connection.cursor().execute("PRAGMA wal_autocheckpoint=1000")


async def ticker(late: list[float], stop: asyncio.Event) -> None:
    """How late the loop wakes a task that sleeps a millisecond, each time (ms)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.001
        await asyncio.sleep(0.001)
        late.append((loop.time() - due) * 1000)


async def measure(args: argparse.Namespace, folder: Path) -> tuple[list[float], list[float]]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'cct.db'}")
    if args.in_commit:
        event.listen(db.engine.sync_engine, "connect", in_commit)
        db.checkpoints = None
    late: list[float] = []
    stop = asyncio.Event()
    try:
        await db.upgrade()
        times = []
        probe = asyncio.create_task(ticker(late, stop))
        try:
            for index in range(args.n):
                started = time.perf_counter()
                async with db.transaction() as repos:
                    await repos.state.set(f"bench-{index}", "x" * args.row_bytes)
                times.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0)
        finally:
            stop.set()
            await probe
        wal = folder / "cct.db-wal"
        print(f"write-ahead log at the end: {wal.stat().st_size / 2**20:.1f} MiB"
              if wal.exists() else "no write-ahead log at the end")
        return times, late
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checkpoints",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="write transactions")
    parser.add_argument("--row-bytes", type=int, default=2000, help="the text each one writes")
    parser.add_argument("--in-commit", action="store_true",
                        help="SQLite's automatic checkpoint in the commit, no worker thread")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n: at least 2 transactions")
    with tempfile.TemporaryDirectory() as folder:
        times, late = asyncio.run(measure(args, Path(folder)))
    where = "in the commit (SQLite's default)" if args.in_commit else "in a worker thread"
    print(f"{args.n} write transactions of {args.row_bytes} bytes on SQLite, checkpoints "
          f"{where}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print(f"the event loop's longest stall: {max(late):.1f} ms; stalls over 5 ms: "
          f"{sum(1 for t in late if t > 5)}")
    print(f"transactions: p50 {percentile(times, 50):.2f} ms, p99 {percentile(times, 99):.2f} ms, "
          f"max {max(times):.1f} ms; over 5 ms: {sum(1 for t in times if t > 5)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
