"""Element as a person uses it: the official Matrix JS SDK with its Rust crypto (the client
that checks device trust), in a Node process driven over JSON lines (``tests/peers``).

    peer = await ElementPeer.start()
    await peer.login(synapse.url, user_id, password)
    await peer.request("isolation", mode="only_signed")
    status = await peer.request("device_status", user_id=bot, device_id=device)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

PEERS = Path(__file__).resolve().parents[1] / "peers"
SCRIPT = PEERS / "element_peer.mjs"
ANSWER_S = 120.0  # the longest operation waits 60 s for an event; a Node process may be slow


def missing() -> str | None:
    """Why the peer cannot run here, or ``None``."""
    node = shutil.which("node")
    if node is None:
        return "Node.js not installed: the Element peer (tests/peers) needs node 20 or later"
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    major = found.stdout.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < 20:
        return f"Node.js {found.stdout.strip()} is too old: the Element peer needs node 20 or later"
    if not (PEERS / "node_modules" / "matrix-js-sdk").is_dir():
        return ("the Element peer's packages are not installed: run `bash scripts/test.sh` "
                "(it runs `npm ci` in tests/peers)")
    return None


class PeerError(Exception):
    """The peer refused or failed an operation."""


class ElementPeer:
    """One Node process, one Matrix account logged in."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self.user_id = ""
        self.device_id = ""

    @classmethod
    async def start(cls) -> ElementPeer:
        process = await asyncio.create_subprocess_exec(
            "node", str(SCRIPT), cwd=str(PEERS), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            limit=1 << 22)
        return cls(process)

    async def request(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Runs one operation; returns its answer (without ``id`` and ``ok``)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        ident = next(self._ids)
        self.process.stdin.write((json.dumps({"id": ident, "op": op, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), ANSWER_S)
        if not line:
            raise PeerError(f"{op}: the peer exited ({await self.process.wait()})")
        answer = json.loads(line)
        assert answer.pop("id") == ident
        if not answer.pop("ok"):
            raise PeerError(f"{op}: {answer.get('error')}")
        return dict(answer)

    async def login(self, homeserver: str, user_id: str, password: str,
                    **options: Any) -> None:
        """Logs in (``display_name``: set once logged in; ``threads``: Element's thread model,
        where thread events live in their thread's timeline)."""
        facts = await self.request("login", homeserver=homeserver, user_id=user_id,
                                   password=password, **options)
        self.user_id, self.device_id = facts["user_id"], facts["device_id"]

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(PeerError, TimeoutError, ConnectionError):
                await asyncio.wait_for(self.request("stop"), 15)
            if self.process.returncode is None:
                try:
                    await asyncio.wait_for(self.process.wait(), 5)
                except TimeoutError:
                    self.process.kill()
                    await self.process.wait()
