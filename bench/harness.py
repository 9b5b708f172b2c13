"""What the live benchmarks share: a throwaway Synapse in a temporary folder, the processes they
start (the bots) and stop whatever happens, the bot's config file, the host's load average.

The one place in ``bench/`` that imports the development homeserver (``LocalSynapse``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.files import write_private
from devtools.devserver import LocalSynapse, find_synapse_python

__all__ = ["REPO", "Child", "Live", "LocalSynapse", "NoSynapse", "find_synapse_python",
           "guarded", "live_synapse",
           "load_average", "run_live", "synapse_version", "toml_config", "write_config"]

REPO = Path(__file__).resolve().parent.parent
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


def cpu_seconds(pid: int) -> float:
    """The processor time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass
class Live:
    """A running throwaway Synapse, its temporary folder, its Python and the processes a
    benchmark starts beside it (stopped on the way out)."""

    server: LocalSynapse
    work: Path
    python: str
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, argv, self.work / f"{name}.log", env or {})
        self.children.append(child)
        return child


class NoSynapse(Exception):
    """No Python with Synapse installed: ``CCT_SYNAPSE_PYTHON`` or ``.venv-synapse/``."""


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def live_synapse(prefix: str, *, keep: bool = False) -> Iterator[Live]:
    """A fresh Synapse in a new temporary folder, started; on the way out (error, Ctrl-C or
    SIGTERM too) the children and the homeserver are stopped and the folder removed unless
    ``keep``. Raises ``NoSynapse`` when no Python has Synapse."""
    python = find_synapse_python()
    if python is None:
        raise NoSynapse("no Synapse: set CCT_SYNAPSE_PYTHON or create .venv-synapse")
    signal.signal(signal.SIGTERM, _terminate)
    work = Path(tempfile.mkdtemp(prefix=f"cct-bench-{prefix}-"))
    live = Live(LocalSynapse(work / "synapse", python=python), work, python)
    try:
        print(f"setting up in {work} ...", file=sys.stderr, flush=True)
        live.server.start()
        yield live
    finally:
        for child in live.children:
            child.stop()
        live.server.stop()
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_live(prefix: str, measure: Callable[[Live], int], *, keep: bool = False) -> int:
    """``measure`` on a fresh Synapse (``live_synapse``); the exit code: its own, 2 without
    Synapse, 130 when interrupted."""
    try:
        with live_synapse(prefix, keep=keep) as live:
            return measure(live)
    except NoSynapse as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
