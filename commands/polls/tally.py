"""Counting a poll: per slot, how many yes / maybe / no, a score, and the best slot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

SCORES = {"yes": 2, "maybe": 1, "no": 0}


@dataclass(frozen=True)
class SlotResult:
    """One candidate date and what people answered."""

    slot_id: int
    position: int
    start: datetime
    end: datetime
    yes: int = 0
    maybe: int = 0
    no: int = 0
    refusing: tuple[str, ...] = field(default=())

    @property
    def score(self) -> int:
        return SCORES["yes"] * self.yes + SCORES["maybe"] * self.maybe

    @property
    def voters(self) -> int:
        return self.yes + self.maybe + self.no


def results(slots: Sequence[tuple[int, int, datetime, datetime]],
            counts: Mapping[tuple[int, str], int],
            refusing: Mapping[int, Sequence[str]]) -> list[SlotResult]:
    """Slots as (id, position, start, end), counts by (slot id, answer)."""
    return [SlotResult(slot_id, position, start, end, counts.get((slot_id, "yes"), 0),
                       counts.get((slot_id, "maybe"), 0), counts.get((slot_id, "no"), 0),
                       tuple(refusing.get(slot_id, ())))
            for slot_id, position, start, end in slots]


def best(found: Sequence[SlotResult]) -> SlotResult | None:
    """The highest score; ties go to more "yes", then fewer "no", then the earlier date.
    ``None`` while nobody can come to any slot."""
    candidates = [r for r in found if r.score > 0]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (-r.score, -r.yes, r.no, r.start))
