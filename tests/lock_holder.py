"""Another program holding a SQLite database's write lock, as an administrator's ``sqlite3`` or
a backup would: a separate Python process that takes the lock (``BEGIN IMMEDIATE`` or
``EXCLUSIVE``), writes a row if asked, and commits when told to."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import TracebackType

_PROGRAM = """
import sqlite3, sys
path, mode, key, whole_file = sys.argv[1:5]
connection = sqlite3.connect(path, isolation_level=None)
if whole_file:
    connection.execute("PRAGMA locking_mode=EXCLUSIVE")
connection.execute("BEGIN " + mode)
if key:
    connection.execute("INSERT INTO bot_state (key, value) VALUES (?, 'other program')", (key,))
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
print("released", flush=True)
"""


class LockHolder:
    """``async with LockHolder(path):`` the lock is held by another process until ``release()``
    or the end of the block. ``key``: a row it writes into ``bot_state`` meanwhile;
    ``whole_file``: in SQLite's exclusive locking mode, which keeps out readers too."""

    def __init__(self, path: Path | str, mode: str = "IMMEDIATE", key: str = "",
                 whole_file: bool = False) -> None:
        self.path = str(path)
        self.mode = mode
        self.key = key
        self.whole_file = whole_file
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> LockHolder:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PROGRAM, self.path, self.mode, self.key,
            "1" if self.whole_file else "",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        if line != b"locked\n":
            raise RuntimeError(f"the other program could not lock {self.path}")
        return self

    async def release(self) -> None:
        """Commits and ends the other process (the lock is free when this returns)."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"\n")
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        await asyncio.wait_for(process.wait(), 60)
        if line != b"released\n":
            raise RuntimeError("the other program could not commit")

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if self._process is not None and error is not None:
            self._process.kill()
            await self._process.wait()
            self._process = None
        await self.release()
