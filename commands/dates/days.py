"""A day written in full, for periods and records (``--du 2024-01-01``, ``--date 15/03/2025``):
ISO or French day/month/year, nothing relative."""

from __future__ import annotations

import re
from datetime import date

from commands.errors import BadArgument

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FRENCH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_day(raw: str) -> date | None:
    """``2024-01-31`` or ``31/01/2024``; ``None`` for anything else."""
    text = raw.strip()
    match = _ISO.match(text)
    parts = match.groups() if match else None
    if parts is None and (french := _FRENCH.match(text)):
        day, month, year = french.groups()
        parts = (year, month, day)
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


class Day:
    """A converter of a day: ``2024-01-31`` or ``31/01/2024``."""

    kind = "day"

    def convert(self, raw: str) -> date:
        day = parse_day(raw)
        if day is None:
            raise BadArgument("report.bad_day", value=raw.strip()[:40])
        return day
