"""What ``bench.club_scale`` sees and prints: an observer (a bare sync of the coordinator's,
messages only) that records when each event arrived and indexes replies by the event they
answer, and the figures with their goals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from bench.club_populate import COORD, Api
from bench.harness import Child


@dataclass
class Seen:
    """An event as the observer's sync delivered it."""

    arrived: float  # monotonic
    room_id: str
    event: dict[str, Any]

    @property
    def sender(self) -> str:
        return str(self.event.get("sender", ""))

    @property
    def content(self) -> dict[str, Any]:
        content = self.event.get("content", {})
        return content if isinstance(content, dict) else {}

    @property
    def reply_to(self) -> str | None:
        relates = self.content.get("m.relates_to", {})
        target = relates.get("m.in_reply_to", {}) if isinstance(relates, dict) else {}
        return target.get("event_id") if isinstance(target, dict) else None


class Observer:
    """The coordinator's sync, messages and memberships only; every event recorded with the
    time it arrived, replies indexed by the event they answer."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: list[Seen] = []
        self.replies: dict[str, list[Seen]] = defaultdict(list)
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        filter_: dict[str, Any] = {"room": {"timeline": {"limit": 500, "types": ["m.room.message"]},
                            "state": {"lazy_load_members": True, "types": []},
                            "ephemeral": {"types": []}, "account_data": {"types": []}},
                   "presence": {"types": []}, "account_data": {"types": []}}
        answer = await self.api.request("POST", f"user/{quote(self.api_user())}/filter", filter_)
        self.filter_id = str(answer["filter_id"])
        first = await self.api.request("GET", "sync", params={
            "filter": json.dumps({**filter_, "room": {**filter_["room"],
                                                      "timeline": {"limit": 0}}})})
        self.since = str(first["next_batch"])
        self.task = asyncio.create_task(self._run(), name="observer")

    def api_user(self) -> str:
        return f"@{COORD}:localhost"

    async def _run(self) -> None:
        while True:
            try:
                answer = await self.api.request("GET", "sync", params={
                    "since": self.since, "timeout": "30000", "filter": self.filter_id},
                    timeout=60)
            except (aiohttp.ClientError, TimeoutError, RuntimeError):
                await asyncio.sleep(0.5)
                continue
            arrived = time.monotonic()
            self.since = str(answer["next_batch"])
            for room_id, room in answer.get("rooms", {}).get("join", {}).items():
                for event in room.get("timeline", {}).get("events", []):
                    seen = Seen(arrived, room_id, event)
                    self.seen.append(seen)
                    target = seen.reply_to
                    if target is not None:
                        self.replies[target].append(seen)
            self.changed.set()
            self.changed = asyncio.Event()

    async def until(self, ready: Callable[[], bool], timeout: float, what: str,
                    children: list[Child]) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for child in children:
                child.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: nothing after {timeout:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.5)

    def reply_from(self, event_id: str, sender: str) -> Seen | None:
        return next((s for s in self.replies.get(event_id, []) if s.sender == sender), None)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


@dataclass
class Figures:
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, value, goal, met
    phases: list[tuple[str, float, float]] = field(default_factory=list)  # name, start, end

    def add(self, what: str, value: str, goal: str = "", met: bool | None = None) -> None:
        self.lines.append((what, value, goal, "" if met is None else "yes" if met else "NO"))
        print(f"  {what}: {value}" + (f" (goal {goal})" if goal else ""), file=sys.stderr,
              flush=True)


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])


def report(figures: Figures, header: str) -> str:
    lines = [header, "", "| figure | value | goal | met |", "|---|---|---|---|"]
    lines += [f"| {what} | {value} | {goal} | {met} |" for what, value, goal, met in figures.lines]
    return "\n".join(lines)
