"""The club bench's latency rounds: cct-bot's ``!ping`` and ``!projet liste`` against the bare
nio echo bot's ``?ping``, in the main room (``bench.club_scale``)."""

from __future__ import annotations

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
    longer message, whichever bot sends it."""
    samples: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(28)
    listing = await ask(bench, "!projet liste", bench.club.bot_id)
    sized = f"{ECHO_TRIGGER} {len(listing.get('body', '').encode())} " \
            f"{len(listing.get('formatted_body', '').encode())}"
    for round_ in range(bench.args.warmup + bench.args.n):
        for command in rng.sample([ECHO_TRIGGER, sized, "!ping", "!projet liste"], 4):
            sender = bench.club.echo_id if command.startswith(ECHO_TRIGGER) else \
                bench.club.bot_id
            started = time.monotonic()
            reply = await ask(bench, command, sender)
            if round_ >= bench.args.warmup:
                label = "echo-sized" if command == sized else command
                samples[label].append((reply["arrived"] - started) * 1000)
    latency_figures(bench.figures, samples)


async def ask(bench: Bench, command: str, sender: str) -> dict[str, Any]:
    """Sends ``command`` in the main room; the content of ``sender``'s reply, with the
    moment it arrived (``arrived``)."""
    event_id = await bench.coord.send(bench.main, command)
    await bench.observer.until(partial(bench.answered, event_id, [sender]), 60, command,
                               bench.children)
    reply = bench.observer.reply_from(event_id, sender)
    assert reply is not None
    return {**reply.content, "arrived": reply.arrived}


def latency_figures(figures: Figures, samples: dict[str, list[float]]) -> None:
    """Each command's p50 against the echo bot's ``?ping`` (the goal), and the echo bot's
    p50 with as long a reply as ``!projet liste``'s (what the homeserver adds for the
    length, whichever bot sends it)."""
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

