"""Where the time of a command → reply goes, traced live: ``bench.latency --trace DIR``.

``install(DIR)`` patches matrix-nio in the process that calls it (and cct-bot's steps, when it
is cct-bot), which then appends one JSON line per event to ``DIR/<pid>.jsonl``, in wall-clock
seconds: each sync (its response received before nio handles it, the timeline's events with
their homeserver time stamps) and each ``room_send`` (start, end, event id, the event it
answers); in cct-bot, the moments of its steps between a sync response and the send of its
reply. ``bench.latency`` installs it in its measuring client and, through
``bench/trace_site/sitecustomize.py`` on their ``PYTHONPATH``, in the echo bot and cct-bot;
``report(DIR)`` then prints, per bot and command, medians of: the command's trip to the
homeserver, its delivery to the bot, the bot's work, the wait from ``room_send`` until aiohttp
begins writing the request's body ("wire": on Python < 3.12 a task of its own, which runs once
the loop gets to it), the bot's send, and the reply's delivery to the client; for two bots in
the same room, how much later one got the same commands than the other (the homeserver's
delivery order); then cct-bot's steps. ``bench.club_scale`` traces its two bots only (its
client is not nio): there the client's columns stay empty.

Tracing costs a little time itself: read its figures against each other, not against a run
without it. Not for production: it replaces library methods.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ENV = "CCT_BENCH_TRACE_DIR"
SITE = Path(__file__).resolve().parent / "trace_site"
# cct-bot's steps, timed from its sync response: (class path, method, label at its start).
STEPS = (
    ("bot.app:Bot", "handle_sync", "batch read"),
    ("bot.sync:SyncBatches", "_save", "transaction"),
    ("bot.dispatcher:Dispatcher", "run_command", "command"),
    ("bot.dispatcher:Dispatcher", "after_commit", "committed"),
    ("bot.outbox:Outbox", "_attempt", "sender"),
)
# A command delivered later than this after its time stamp was sent while the bot was stopped
# or starting (restarts, catch-up): left out of the delivery order, and of the figures when no
# client is traced (``bench.club_scale``).
LIVE_S = 1.0
SEGMENTS = (*(label for *_, label in STEPS), "send")


def install(folder: str | Path) -> None:
    """Traces this process's nio client (and cct-bot's steps, if it is cct-bot) into
    ``folder``."""
    import aiohttp.client_reqrep
    import nio

    tracer = _Tracer((Path(folder) / f"{os.getpid()}.jsonl").open("a", buffering=1))
    _patch(nio.AsyncClient, "receive_response", tracer.on_receive)
    _patch(nio.AsyncClient, "sync", tracer.on_sync)
    _patch(nio.AsyncClient, "room_send", tracer.on_send)
    _patch(aiohttp.client_reqrep.ClientRequest, "write_bytes", tracer.on_write)
    _trace_steps(tracer.marks)


def _patch(cls: Any, name: str, make: Callable[[Any], Any]) -> None:
    setattr(cls, name, functools.wraps(getattr(cls, name))(make(getattr(cls, name))))


class _Tracer:
    """The wrappers of nio's and aiohttp's methods, and what they share."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.marks: dict[str, float] = {}  # this sync response's steps, until its reply's send
        self.arrived = 0.0  # when the last sync response arrived
        self.wire: float | None = None  # when the body of the send under way began to be written

    def write(self, **record: Any) -> None:
        self.out.write(json.dumps(record) + "\n")

    def on_receive(self, original: Any) -> Any:
        async def receive_response(client: Any, response: Any) -> Any:
            import nio

            if isinstance(response, nio.SyncResponse):
                self.arrived = time.time()
                self.marks.clear()
                self.marks["arrived"] = self.arrived
            return await original(client, response)
        return receive_response

    def on_sync(self, original: Any) -> Any:
        async def sync(client: Any, *args: Any, **kwargs: Any) -> Any:
            response = await original(client, *args, **kwargs)
            events = [[e.event_id, e.server_timestamp, str(getattr(e, "body", ""))[:40]]
                      for room in getattr(getattr(response, "rooms", None), "join", {}).values()
                      for e in room.timeline.events]
            self.write(kind="sync", user=client.user_id, arrived=self.arrived, events=events)
            return response
        return sync

    def on_write(self, original: Any) -> Any:
        async def write_bytes(request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.method == "PUT" and "/send/" in request.url.path and self.wire is None:
                self.wire = time.time()
            return await original(request, *args, **kwargs)
        return write_bytes

    def on_send(self, original: Any) -> Any:
        async def room_send(client: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.time()
            self.wire = None
            if "arrived" in self.marks:
                arrived = self.marks["arrived"]
                self.write(kind="steps", user=client.user_id,
                           steps={k: v - arrived for k, v in self.marks.items()}
                           | {"send": start - arrived})
                self.marks.clear()
            response = await original(client, *args, **kwargs)
            self.write(kind="send", user=client.user_id, start=start, end=time.time(),
                       wire=self.wire, event_id=getattr(response, "event_id", None),
                       reply_to=_reply_to(args[2] if len(args) > 2 else kwargs.get("content")))
            return response
        return room_send


def _reply_to(content: Any) -> str | None:
    """The event a message's content answers (``m.in_reply_to``), if any."""
    relation = content.get("m.relates_to") if isinstance(content, dict) else None
    replied = relation.get("m.in_reply_to") if isinstance(relation, dict) else None
    return replied.get("event_id") if isinstance(replied, dict) else None


def _trace_steps(marks: dict[str, float]) -> None:
    """Notes when each of cct-bot's steps starts (the first time after a sync response)."""
    import importlib

    for path, method, label in STEPS:
        module, cls = path.split(":")
        try:
            target = getattr(importlib.import_module(module), cls)
        except ImportError:
            return
        if not hasattr(target, method):  # renamed since: that step is not traced
            print(f"trace: no {path}.{method}", file=sys.stderr)
            continue

        def make(original: Callable[..., Awaitable[Any]], label: str = label) -> Any:
            async def step(self: Any, *args: Any, **kwargs: Any) -> Any:
                if "arrived" in marks:
                    marks.setdefault(label, time.time())
                return await original(self, *args, **kwargs)
            return step

        _patch(target, method, make)


def child_env(folder: str | Path) -> dict[str, str]:
    """What a child process needs in its environment to trace itself into ``folder``."""
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {ENV: str(folder), "PYTHONPATH": path}


def _load(folder: Path) -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(folder.glob("*.jsonl")):
        for line in file.read_text().splitlines():
            record = json.loads(line)
            records.setdefault(record["user"], []).append(record)
    return records


def _label(body: str) -> str:
    """The command and its subcommand, if any (``!projet liste``, ``!rappel annuler``)."""
    words = body.split()
    return " ".join(words[:2] if len(words) > 1 and words[1].isalpha() else words[:1])


def _median(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:6.1f}" if values else "     -"


def report(folder: str | Path, client_user: str | None = None) -> str:
    """The medians per bot and command (milliseconds), from the traces in ``folder``; without a
    traced client (``client_user``), its columns ("to hs", "to client") stay empty and every
    command a bot answered counts."""
    records = _load(Path(folder))
    client = records.pop(client_user, []) if client_user else []
    sent = {r["event_id"]: r for r in client if r["kind"] == "send"}
    seen: dict[str, float] = {}
    for r in client:
        if r["kind"] == "sync":
            for event_id, *_ in r["events"]:
                seen.setdefault(event_id, r["arrived"])
    lines = [f"{'bot':22} {'command':16} {'n':>4} {'to hs':>6} {'to bot':>6} {'work':>6} "
             f"{'wire':>6} {'send':>6} {'to client':>9}"]
    for user, rows in sorted(records.items()):
        figures = _bot_figures(rows, client_user, sent, seen)
        for label, samples in figures.items():
            columns = [_median([v for s in samples if (v := s[i]) is not None]) for i in range(6)]
            lines.append(f"{user:22} {label:16} {len(samples):4} {columns[0]} {columns[1]} "
                         f"{columns[2]} {columns[3]} {columns[4]} {columns[5]:>9}")
    return "\n".join([*lines, "", _order(records), "", _steps(records)])


def _order(records: dict[str, list[dict[str, Any]]]) -> str:
    """For two traced bots in the same room: how much later the second's sync response brought
    the same command than the first's (the homeserver serves the syncs an event wakes in turn,
    in an order of its own), whichever bot the command was for."""
    arrived: dict[str, dict[str, float]] = {}
    for user, rows in records.items():
        for sync, event_id, stamp, _body in _commands(rows):
            if _live(sync, stamp):
                arrived.setdefault(user, {}).setdefault(event_id, sync["arrived"])
    users = sorted(arrived)
    lines = ["delivery order, the same commands (ms, median; share of them the second bot got later):"]
    for i, one in enumerate(users):
        for other in users[i + 1:]:
            both = arrived[one].keys() & arrived[other].keys()
            gaps = [arrived[other][e] - arrived[one][e] for e in both]
            if not gaps:
                continue
            earlier, later_bot = one, other
            if statistics.median(gaps) < 0:
                earlier, later_bot, gaps = other, one, [-gap for gap in gaps]
            share = sum(1 for gap in gaps if gap > 0) / len(gaps)
            lines.append(f"{later_bot} after {earlier}: {_median(gaps).strip()} ms over "
                         f"{len(gaps)} commands, later for {share:.0%}")
    return "\n".join(lines)


def _commands(rows: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str, int, str]]:
    """The commands (``!`` or ``?``) the syncs of ``rows`` brought: (sync, event id, time
    stamp, body)."""
    for sync in (r for r in rows if r["kind"] == "sync"):
        for event_id, stamp, body in sync["events"]:
            if body.startswith(("!", "?")):
                yield sync, event_id, stamp, body


def _live(sync: dict[str, Any], stamp: int) -> bool:
    """Whether the sync brought the command within ``LIVE_S`` of its time stamp."""
    return bool(sync["arrived"] - stamp / 1000 <= LIVE_S)


def _bot_figures(rows: list[dict[str, Any]], client_user: str | None,
                 sent: dict[str, dict[str, Any]], seen: dict[str, float],
                 ) -> dict[str, list[list[float | None]]]:
    """Per command a bot answered: its six durations (``None`` where unknown). The reply is the
    send answering the command (``m.in_reply_to``), else the bot's first send after its sync."""
    figures: dict[str, list[list[float | None]]] = {}
    sends = [r for r in rows if r["kind"] == "send"]
    answers: dict[str, dict[str, Any]] = {}
    for send in sends:  # a reply sent in parts: its first
        if send.get("reply_to"):
            answers.setdefault(send["reply_to"], send)
    for r, event_id, stamp, body in _commands(rows):
        if client_user:  # the client's own commands, answered and seen by it
            if event_id not in sent:
                continue
            reply = answers.get(event_id) or next(
                (s for s in sends if s["start"] >= r["arrived"]), None)
            if reply is None or reply["event_id"] not in seen:
                continue
        else:  # the commands sent while the bot was running, answered
            reply = answers.get(event_id)
            if not _live(r, stamp) or reply is None:
                continue
        asked = sent.get(event_id)
        delivered = seen.get(reply["event_id"])
        figures.setdefault(_label(body), []).append([
            stamp / 1000 - asked["start"] if asked else None, r["arrived"] - stamp / 1000,
            reply["start"] - r["arrived"],
            reply["wire"] - reply["start"] if reply.get("wire") else None,
            reply["end"] - reply["start"],
            delivered - reply["start"] if delivered is not None else None])
    return figures


def _steps(records: dict[str, list[dict[str, Any]]]) -> str:
    """cct-bot's steps after a sync response holding one command: when each started."""
    lines = [f"{'bot':22} {'command':16} {'n':>4} " + " ".join(f"{s[:11]:>11}" for s in SEGMENTS)]
    for user, rows in sorted(records.items()):
        by_command: dict[str, list[dict[str, float]]] = {}
        last_sync: dict[str, Any] | None = None
        for r in rows:
            if r["kind"] == "sync":
                last_sync = r
            elif r["kind"] == "steps" and last_sync is not None and "command" in r["steps"]:
                bodies = [e[2] for e in last_sync["events"] if e[2].startswith("!")]
                if len(bodies) == 1:
                    by_command.setdefault(_label(bodies[0]), []).append(r["steps"])
        for label, steps in by_command.items():
            cells = [_median([s[k] for s in steps if k in s]) for k in SEGMENTS]
            lines.append(f"{user:22} {label:16} {len(steps):4} "
                         + " ".join(f"{c:>11}" for c in cells))
    return ("cct-bot's steps, ms after its sync response arrived (median of when each began):\n"
            + "\n".join(lines))
