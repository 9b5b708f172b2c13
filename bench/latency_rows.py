"""What ``bench.latency`` measures and prints: each command to each bot (how its reply is
recognised and checked, what undoes it untimed), the rows it makes in each kind of room, and the
table of their figures against the goals (cct-bot's p50 within 1.10 × the echo bot's and below
matrix-reminder-bot's)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

GOAL_P50_RATIO = 1.10
ECHO, CCT, PEER = "echo", "cct-bot", "matrix-reminder-bot"


@dataclass(frozen=True)
class Case:
    """One command to one bot: what is sent, how its reply is recognised and checked."""

    bot: str
    label: str
    commands: tuple[str, ...]  # round i sends commands[i % len]; ``{poll}``: the room's poll
    expect: str  # the reply's body must contain this (else the run stops: wrong measurement)
    threaded: bool = True  # the reply names the command (m.in_reply_to); else the bot's next message
    edits: bool = False  # an edit of another message follows the reply: waited for, not timed
    undo: Callable[[str], tuple[str, str]] | None = None  # reply body → (command, expected)

    def command(self, round_: int, poll: int) -> str:
        return self.commands[round_ % len(self.commands)].format(poll=poll)


def _cancel_rappel(body: str) -> tuple[str, str]:
    found = re.search(r"n°(\d+)", body)
    if found is None:
        raise RuntimeError(f"no reminder number in {body!r}")
    return f"!rappel annuler {found.group(1)}", "annulé"


CASES = (
    Case(ECHO, "!ping", ("!ping",), "pong"),
    Case(CCT, "!ping", ("!ping",), "pong"),
    Case(CCT, "!projet liste", ("!projet liste",), "Groupes-projets"),
    # Alternating ballots: each vote changes something (then the poll message is edited).
    Case(CCT, "!vote <poll> 1+ 2?", ("!vote {poll} 1+ 2?", "!vote {poll} 1? 2+"),
         "Vote enregistré", edits=True),
    # Cancelled after each round (not timed): cct-bot keeps at most 100 pending per person.
    Case(CCT, "!rappel dans 3 jours relancer le groupe",
         ("!rappel dans 3 jours relancer le groupe",), "Rappel n°", undo=_cancel_rappel),
    # Its confirmation is an m.notice that does not name the command; cancelled likewise, else
    # the next one is refused as "a similar reminder already exists".
    Case(PEER, "!remindme 3 days; relancer le groupe", ("!remindme 3 days; relancer le groupe",),
         "OK, I will remind you", threaded=False,
         undo=lambda _body: ("!cancelreminder relancer le groupe", "cancelled")),
)


@dataclass
class Row:
    """One case in one kind of room, with its measured latencies (ms)."""

    case: Case
    mode: str
    room_id: str
    poll: int = 0
    samples: list[float] = field(default_factory=list)  # command sent → reply received
    turns: list[float] = field(default_factory=list)  # the two events' origin_server_ts apart


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


@dataclass(frozen=True)
class Line:
    """One row of the printed table."""

    mode: str
    bot: str
    command: str
    p50: float
    p95: float
    p99: float
    ratio: float  # p50 / the echo bot's p50 in the same kind of room
    turn: float  # p50 of the bot's turn (origin_server_ts of the command → of the reply)
    within: str  # cct-bot: p50 ≤ 1.10 × echo ("yes"/"NO"), else ""
    below_peer: str  # cct-bot: p50 < matrix-reminder-bot's ("yes"/"NO"/"n/a"), else ""


def summarise(rows: Sequence[Row]) -> list[Line]:
    lines = []
    for mode in dict.fromkeys(row.mode for row in rows):
        here = [row for row in rows if row.mode == mode]
        p50 = {(row.case.bot, row.case.label): percentile(row.samples, 50) for row in here}
        echo = p50[ECHO, "!ping"]
        peer = next((value for (bot, _label), value in p50.items() if bot == PEER), None)
        for row in here:
            mine = p50[row.case.bot, row.case.label]
            within = below = ""
            if row.case.bot == CCT:
                within = "yes" if mine <= GOAL_P50_RATIO * echo else "NO"
                below = "n/a" if peer is None else "yes" if mine < peer else "NO"
            lines.append(Line(mode, row.case.bot, row.case.label, mine,
                              percentile(row.samples, 95), percentile(row.samples, 99),
                              mine / echo, percentile(row.turns, 50), within, below))
    return lines


def report(lines: Sequence[Line], header: str, markdown: bool) -> str:
    titles = ("rooms", "bot", "command", "p50 ms", "p95 ms", "p99 ms", "p50/echo",
              "bot turn p50", f"≤ {GOAL_P50_RATIO:.2f}× echo", "< reminder-bot")
    cells = [(line.mode, line.bot, line.command, f"{line.p50:.1f}", f"{line.p95:.1f}",
              f"{line.p99:.1f}", f"{line.ratio:.2f}", f"{line.turn:.0f}", line.within,
              line.below_peer)
             for line in lines]
    if markdown:
        table = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
        table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in cells]
    else:
        widths = [max(len(row[i]) for row in [titles, *cells]) for i in range(len(titles))]
        table = ["  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                           for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
                 for row in [titles, *cells]]
    return "\n".join([header, *table])
