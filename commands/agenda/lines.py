"""The agenda's lines (an item as shown and kept in the published snapshot) and their
schedule: each item's start, elapsed time from the rencontre's start in aware UTC (a rencontre
that crosses a DST change still shows the right wall-clock times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Line:
    """One agenda item as shown (and as kept in the published snapshot)."""

    id: int
    title: str
    minutes: int
    method: str = ""
    presenters: tuple[str, ...] = ()
    note: str = ""  # a project group's latest news (tour des groupes)
    group: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        return cls(id=int(data["id"]), title=str(data["title"]), minutes=int(data["minutes"]),
                   method=str(data.get("method", "")),
                   presenters=tuple(data.get("presenters", ())), note=str(data.get("note", "")),
                   group=data.get("group"))

    def same_item(self, other: Line) -> bool:
        """Same content, whatever the news of its group."""
        return (self.title, self.minutes, self.method, self.presenters) == (
            other.title, other.minutes, other.method, other.presenters)


@dataclass(frozen=True)
class Timed:
    """A line with its position (1-based) and its start."""

    position: int
    start: datetime
    line: Line


def schedule(start: datetime, lines: list[Line]) -> list[Timed]:
    """Item k starts at ``start`` plus the durations of the items before it: elapsed time,
    computed in UTC (adding minutes to a Paris datetime would be wall-clock arithmetic, wrong
    across a DST change)."""
    timed, at = [], start.astimezone(UTC)
    for position, line in enumerate(lines, start=1):
        timed.append(Timed(position, at, line))
        at = at + timedelta(minutes=line.minutes)
    return timed


def end_of(start: datetime, lines: list[Line]) -> datetime:
    return start.astimezone(UTC) + timedelta(minutes=sum(line.minutes for line in lines))
