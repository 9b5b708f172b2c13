"""Command → reply latency of cct-bot against a bare matrix-nio echo bot, on one fresh Synapse.

    .venv/bin/python -m bench.latency [--n 200] [--warmup 20] [--encrypted]

One run starts a throwaway Synapse (temporary folder), cct-bot (``python -m bot.cli run``) and
``bench.echo_bot`` as separate processes, each bot in its own room, then a measuring client sends
``!ping`` to the two bots in turn (alternating which goes first) and times each one from just
before ``room_send`` to the moment its sync delivers the reply (monotonic clock).  Everything it
started is stopped on exit, error, Ctrl-C or SIGTERM.  Compare figures only within one run: the
host's load moves them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nio import MatrixRoom, RoomMessageNotice, RoomSendResponse

from bot.devserver import LocalSynapse, find_synapse_python
from tests.integration.matrix_user import MatrixUser, reply_target

REPO = Path(__file__).resolve().parent.parent
GOAL_P50_RATIO = 1.10
REPLY_TIMEOUT = 60.0
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


@dataclass
class Target:
    """One bot under test: its account, its room and its measured latencies (ms)."""

    name: str
    user_id: str
    room_id: str = ""
    samples: list[float] = field(default_factory=list)


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


def synapse_version(python: str) -> str:
    result = subprocess.run([python, "-c", "import synapse; print(synapse.__version__)"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


class Bench:
    """Sets up both bots on a running Synapse, then pings them and collects latencies."""

    def __init__(self, args: argparse.Namespace, server: LocalSynapse, work: Path,
                 children: list[Child]) -> None:
        self.args = args
        self.server = server
        self.work = work
        self.children = children
        self.arrivals: dict[str, float] = {}  # replied-to event id -> monotonic arrival time
        self.user: MatrixUser | None = None

    def stamp(self, _room: MatrixRoom, event: RoomMessageNotice) -> None:
        """nio event callback: runs as soon as the client's sync delivers a notice."""
        target = reply_target(event)
        if target is not None:
            self.arrivals.setdefault(target, time.monotonic())

    async def run(self) -> tuple[Target, Target]:
        encrypted: bool = self.args.encrypted
        user = self.user = await MatrixUser.create(
            self.server, "bench", encryption=encrypted,
            store_dir=self.work / "bench-store" if encrypted else None)
        user.client.add_event_callback(self.stamp, RoomMessageNotice)
        cct = Target("cct-bot", self.server.register("cctbot", "cctbot-pw"))
        echo = Target("echo", self.server.register("echobot", "echobot-pw"))
        for target in (cct, echo):
            target.room_id = await user.create_room(name=f"bench {target.name}",
                                                    invite=[target.user_id], encrypted=encrypted)
        self.start_cct_bot(cct, user.user_id)
        self.start_echo_bot(echo, user.user_id)
        for target in (cct, echo):
            await guarded(user.wait_membership(target.room_id, target.user_id, timeout=120),
                          self.children, 130)
        if encrypted:
            await self.learn_devices(user, (cct, echo))
        for i in range(self.args.warmup):
            for target in self.order(i, cct, echo):
                await self.ping(user, target)
        for i in range(self.args.n):
            for target in self.order(i, cct, echo):
                target.samples.append(await self.ping(user, target))
        return cct, echo

    @staticmethod
    def order(i: int, cct: Target, echo: Target) -> tuple[Target, Target]:
        return (cct, echo) if i % 2 == 0 else (echo, cct)

    def start_cct_bot(self, target: Target, inviter: str) -> None:
        folder = self.work / "cct-bot"
        folder.mkdir()
        config = {
            "matrix": {"homeserver": self.server.url, "user_id": target.user_id,
                       "password": "cctbot-pw", "device_id": "CCTBENCH",
                       "store_path": str(folder / "store"), "encryption": self.args.encrypted},
            "database": {"url": f"sqlite+aiosqlite:///{folder / 'cct.db'}"},
            "club": {"allowed_inviters": [inviter]},
            "rooms": {"main": target.room_id},
            "logging": {"level": self.args.bot_log_level},
        }
        path = folder / "config.toml"
        path.write_text(toml_config(config), encoding="utf-8")
        argv = [sys.executable, "-m", "bot.cli", "run", "--config", str(path)]
        self.children.append(Child("cct-bot", argv, self.work / "cct-bot.log", {}))

    def start_echo_bot(self, target: Target, inviter: str) -> None:
        argv = [sys.executable, "-m", "bench.echo_bot", "--homeserver", self.server.url,
                "--user-id", target.user_id, "--inviter", inviter,
                "--store", str(self.work / "echo-store")]
        if self.args.encrypted:
            argv.append("--encrypted")
        self.children.append(Child("echo bot", argv, self.work / "echo-bot.log",
                                   {"ECHO_BOT_PASSWORD": "echobot-pw"}))

    async def learn_devices(self, user: MatrixUser, targets: Sequence[Target]) -> None:
        """Encrypted rooms: wait until the client knows each bot's device (so it gets the key)."""
        client = user.client
        for target in targets:
            deadline = time.monotonic() + 60
            while not client.device_store.active_user_devices(target.user_id):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no device keys for {target.user_id}")
                await client.joined_members(target.room_id)
                client.olm.users_for_key_query.add(target.user_id)
                await client.keys_query()
                await asyncio.sleep(0.2)

    async def ping(self, user: MatrixUser, target: Target) -> float:
        """Sends ``!ping`` and returns the milliseconds until the reply reached the client."""
        content = {"msgtype": "m.text", "body": "!ping"}
        start = time.monotonic()
        response = await user.client.room_send(target.room_id, "m.room.message", content,
                                               ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"sending to {target.name} failed: {response}")
        await guarded(user.wait_for_reply(target.room_id, response.event_id, REPLY_TIMEOUT),
                      self.children, REPLY_TIMEOUT + 5)
        # Replies decrypted late (room key after the event) miss the callback: count them now.
        arrived = self.arrivals.pop(response.event_id, time.monotonic())
        return (arrived - start) * 1000

    async def close(self) -> None:
        if self.user is not None:
            await self.user.close()


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def report(cct: Target, echo: Target, version: str, args: argparse.Namespace) -> str:
    rooms = "encrypted" if args.encrypted else "unencrypted"
    lines = [f"cct-bot latency: !ping → reply, Synapse {version}, N={args.n} per bot "
             f"(+{args.warmup} warm-up), {rooms} rooms",
             f"{'bot':<8} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8}   (ms)"]
    stats: dict[str, tuple[float, float]] = {}
    for target in (echo, cct):
        p50, p95, p99 = (percentile(target.samples, p) for p in (50, 95, 99))
        mean = statistics.fmean(target.samples)
        stats[target.name] = (p50, p95)
        lines.append(f"{target.name:<8} {p50:8.1f} {p95:8.1f} {p99:8.1f} {mean:8.1f}")
    ratio50 = stats["cct-bot"][0] / stats["echo"][0]
    ratio95 = stats["cct-bot"][1] / stats["echo"][1]
    verdict = "met" if ratio50 <= GOAL_P50_RATIO else "NOT met"
    lines += [f"ratio cct-bot/echo: p50 {ratio50:.2f}, p95 {ratio95:.2f}",
              f"goal: p50 ratio ≤ {GOAL_P50_RATIO:.2f} — {verdict}"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="measured pings per bot")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured pings per bot first")
    parser.add_argument("--encrypted", action="store_true", help="encrypted rooms, both bots e2e")
    parser.add_argument("--bot-log-level", default="WARNING", help="cct-bot's logging.level")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n must be at least 2")
    return args


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON or create .venv-synapse", file=sys.stderr)
        return 2
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session for device …" before a claim
    signal.signal(signal.SIGTERM, _terminate)  # a SIGTERM cleans up like Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="cct-bench-"))
    server = LocalSynapse(work / "synapse", python=python)
    children: list[Child] = []
    try:
        print(f"setting up in {work} ...", file=sys.stderr, flush=True)
        server.start()
        bench = Bench(args, server, work, children)

        async def measure() -> tuple[Target, Target]:
            try:
                return await bench.run()
            finally:
                await bench.close()

        cct, echo = asyncio.run(measure())
        print(report(cct, echo, synapse_version(python), args))
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for child in children:
            child.stop()
        server.stop()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
