"""The club bench's latency rounds: cct-bot's ``!ping`` and ``!projet liste`` against the bare
nio echo bot's ``?ping``, in the main room (``bench.club_scale``)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any

from bench.club_observer import Figures, p
from bench.latency_rows import GOAL_P50_RATIO as RATIO

if TYPE_CHECKING:
    from bench.club_bench import Bench

ECHO_TRIGGER = "?ping"  # the echo bot's !ping (cct-bot answers only its prefix)


async def latency(bench: Bench) -> None:
    """``!ping`` and ``!projet liste`` to cct-bot, ``?ping`` to the echo bot (were both to
    answer the same ``!ping``, the homeserver would persist one reply after the other in
    the room: the second bot's would wait), in the main room, one at a time, in a new order
    each round; and ``?ping B H``, answered with as long a reply as ``!projet liste``'s
    (its text's and HTML's lengths in bytes, read from the first one): what the homeserver adds for a
    longer message, whichever bot sends it. The rounds are shared out over
    ``--homeserver-starts`` starts of the homeserver: the order in which it wakes the syncs
    waiting in a room is drawn once per start (``docs/performance.md``), a head start or a
    handicap for one bot that lasts the whole start."""
    samples: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(28)
    listing = await ask(bench, "!projet liste", bench.club.bot_id)
    sized = f"{ECHO_TRIGGER} {len(listing.get('body', '').encode())} " \
            f"{len(listing.get('formatted_body', '').encode())}"
    starts = max(1, min(bench.args.homeserver_starts, bench.args.n))
    per_start: list[dict[str, list[float]]] = []
    for start, rounds in enumerate(shares(bench.args.n, starts)):
        if start:
            await restart_homeserver(bench)
        part = await rounds_of(bench, rng, [ECHO_TRIGGER, sized, "!ping", "!projet liste"],
                               bench.args.warmup, rounds)
        per_start.append({("echo-sized" if c == sized else c): v for c, v in part.items()})
    for part in per_start:
        for label, values in part.items():
            samples[label].extend(values)
    latency_figures(bench.figures, samples, per_start)


def shares(total: int, parts: int) -> list[int]:
    """``total`` rounds shared out as evenly as can be over ``parts``."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def rounds_of(bench: Bench, rng: random.Random, commands: list[str], warmup: int,
                    rounds: int) -> dict[str, list[float]]:
    """``warmup`` then ``rounds`` rounds of ``commands`` in a new order each; the measured
    round trips (ms) by command."""
    samples: dict[str, list[float]] = defaultdict(list)
    for round_ in range(warmup + rounds):
        for command in rng.sample(commands, len(commands)):
            sender = bench.club.echo_id if command.startswith(ECHO_TRIGGER) else \
                bench.club.bot_id
            started = time.monotonic()
            reply = await ask(bench, command, sender)
            if round_ >= warmup:
                samples[command].append((reply["arrived"] - started) * 1000)
    return samples


async def restart_homeserver(bench: Bench) -> None:
    """The homeserver stopped and started again; returns once both bots answer."""
    await asyncio.to_thread(bench.server.stop)
    await asyncio.to_thread(bench.server.start)
    for command, sender in (("!ping", bench.club.bot_id), (ECHO_TRIGGER, bench.club.echo_id)):
        await ask(bench, command, sender, timeout=120)


async def ask(bench: Bench, command: str, sender: str, timeout: float = 60) -> dict[str, Any]:
    """Sends ``command`` in the main room; the content of ``sender``'s reply, with the
    moment it arrived (``arrived``)."""
    event_id = await bench.coord.send(bench.main, command)
    await bench.observer.until(partial(bench.answered, event_id, [sender]), timeout, command,
                               bench.children)
    reply = bench.observer.reply_from(event_id, sender)
    assert reply is not None
    return {**reply.content, "arrived": reply.arrived}


def latency_figures(figures: Figures, samples: dict[str, list[float]],
                    per_start: list[dict[str, list[float]]] | None = None) -> None:
    """Each command's p50 against the echo bot's ``?ping`` (the goal) over every start of
    the homeserver, and each start's ratio apart; the echo bot's p50 with as long a reply
    as ``!projet liste``'s (what the homeserver adds for the length, whichever bot sends
    it)."""
    echo = statistics.median(samples[ECHO_TRIGGER])
    figures.add("echo bot `?ping` p50 (same room, same run)", f"{echo:.0f} ms")
    sized = statistics.median(samples["echo-sized"])
    figures.add("echo bot, a reply as long as `!projet liste`'s, p50 ÷ its `?ping`'s",
                f"{sized:.0f} ms, {sized / echo:.2f}×")
    for command in ("!ping", "!projet liste"):
        mine = statistics.median(samples[command])
        figures.add(f"cct-bot `{command}` p50 (p99) ÷ echo bot's",
                    f"{mine:.0f} ms ({p(samples[command], 0.99):.0f} ms), {mine / echo:.2f}×",
                    f"≤ {RATIO:.2f}×", mine / echo <= RATIO)
        if per_start and len(per_start) > 1:
            figures.add(f"cct-bot `{command}` p50 ÷ echo bot's, each start of the homeserver",
                        ", ".join(f"{ratio(part, command):.2f}×" for part in per_start))


def ratio(samples: dict[str, list[float]], command: str) -> float:
    """``command``'s p50 ÷ the echo bot's ``?ping``'s, in ``samples``."""
    return statistics.median(samples[command]) / statistics.median(samples[ECHO_TRIGGER])
