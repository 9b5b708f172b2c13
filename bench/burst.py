"""A burst: 50 people × 10 commands at once, against cct-bot and a bare nio echo bot, on one
Synapse with its default timeline settings (the bot must cope with gaps it does not control).

    .venv/bin/python -m bench.burst [--people 50] [--each 10]

Each bot has its own room where every person is a member. All the people send their commands
at the same moment (plain client-server API calls, no sync of their own); one listening client
counts the replies. Prints, per bot: commands answered, time from the first send to the last
reply, and replies missing after the wait. Goal: every command answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.latency import Child, guarded, write_config
from devtools.devserver import LocalSynapse, find_synapse_python
from tests.integration.matrix_user import MatrixUser, reply_target

WAIT_S = 180.0


def call(server: LocalSynapse, method: str, path: str, token: str,
         body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        server.url + path, method=method, data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read() or b"{}")
        return result


async def burst(server: LocalSynapse, tokens: list[str], room: str, each: int) -> list[str]:
    """Every person sends ``each`` commands at once; returns the event ids."""
    quoted = urllib.parse.quote(room)

    def send_all(token: str, person: int) -> list[str]:
        return [call(server, "PUT", f"/_matrix/client/v3/rooms/{quoted}/send/m.room.message/"
                     f"b{person}-{i}-{time.monotonic_ns()}", token,
                     {"msgtype": "m.text", "body": "!ping"})["event_id"] for i in range(each)]

    batches = await asyncio.gather(*(asyncio.to_thread(send_all, token, person)
                                     for person, token in enumerate(tokens)))
    return [event for batch in batches for event in batch]


async def measure(server: LocalSynapse, listener: MatrixUser, tokens: list[str], room: str,
                  each: int, children: list[Child]) -> tuple[int, int, float]:
    started = time.monotonic()
    sent = set(await burst(server, tokens, room, each))
    last = started

    def answered() -> set[str]:
        targets = (reply_target(e) for e in listener.events.get(room, []))
        return {target for target in targets if target is not None and target in sent}

    deadline = time.monotonic() + WAIT_S
    count = 0
    while time.monotonic() < deadline:
        now_answered = answered()
        if len(now_answered) > count:
            count, last = len(now_answered), time.monotonic()
        if count == len(sent):
            break
        for child in children:
            child.check()
        await asyncio.sleep(0.25)
    return len(sent), count, last - started


async def run(args: argparse.Namespace, server: LocalSynapse, work: Path,
              children: list[Child]) -> list[tuple[str, int, int, float]]:
    listener = await MatrixUser.create(server, "listener")
    try:
        people = [server.register(f"p{i}", "p-pw") for i in range(args.people)]
        tokens = [server.login_token(user, "p-pw") for user in people]
        results = []
        for name in ("cct-bot", "echo bot"):
            bot_id = server.register(name.replace(" ", "").replace("-", ""), "bot-pw")
            room = await listener.create_room(name=name, invite=[bot_id, *people])
            for token in tokens:
                call(server, "POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room)}",
                     token)
            if name == "cct-bot":
                config = work / "config.toml"
                write_config(config, {
                    "matrix": {"homeserver": server.url, "user_id": bot_id,
                               "password": "bot-pw", "device_id": "BURST",
                               "store_path": str(work / "store")},
                    "database": {"url": f"sqlite+aiosqlite:///{work / 'cct.db'}"},
                    "club": {"allowed_inviters": [listener.user_id]},
                    "rooms": {"main": room},
                    # throughput, not the per-person rate (20 commands a minute by default)
                    "limits": {"commands_per_minute": 0}})
                argv = [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]
                children.append(Child(name, argv, work / "cct-bot.log", {}))
            else:
                argv = [sys.executable, "-m", "bench.echo_bot", "--homeserver", server.url,
                        "--user-id", bot_id, "--inviter", listener.user_id,
                        "--store", str(work / "echo-store")]
                children.append(Child(name, argv, work / "echo-bot.log",
                                      {"ECHO_BOT_PASSWORD": "bot-pw"}))
            await guarded(listener.wait_membership(room, bot_id, timeout=120), children, 130)
            await asyncio.sleep(3)  # both bots past their first sync
            sent, answered, elapsed = await measure(server, listener, tokens, room, args.each,
                                                    children)
            results.append((name, sent, answered, elapsed))
        return results
    finally:
        await listener.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--each", type=int, default=10)
    args = parser.parse_args()
    python = find_synapse_python()
    if python is None:
        print("no Synapse: set CCT_SYNAPSE_PYTHON", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cct-bench-burst-"))
    server = LocalSynapse(work / "synapse", python=python)
    children: list[Child] = []
    try:
        server.start()
        results = asyncio.run(run(args, server, work, children))
        print(f"{args.people} people × {args.each} commands at once (Synapse default timeline "
              "settings)\n")
        print("| bot | sent | answered | first send → last reply |\n|---|---|---|---|")
        for name, sent, answered, elapsed in results:
            print(f"| {name} | {sent} | {answered} | {elapsed:.1f} s |")
        return 0
    finally:
        for child in children:
            child.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
