"""What a capability lets ``cct-bot export <name>`` write (``Capability(exports=…)``): files
made from the database, by file name. The CLI builds its ``export`` subcommands from these
declarations and never names a capability."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from commands.context import Club
    from commands.i18n import Translator
    from storage.repositories import Repositories


@dataclass(frozen=True)
class ExportRun:
    """What one export sees: the club, its language, the time, the options asked."""

    club: Club
    t: Translator
    now: datetime
    format: str  # one of ``Export.formats``
    year: int  # the year asked (``Export.yearly``), else the current one
    # ``Export.periodic``: a period named in the config, or its first and last days
    period: str = ""
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class Export:
    """``cct-bot export <name>``: its files, made in one read of the database."""

    name: str
    help: str  # French / English
    make: Callable[[Repositories, ExportRun], Awaitable[Mapping[str, bytes]]]
    formats: tuple[str, ...] = ("md",)  # ``--format``, the first by default
    # ``True``: its files are written into ``--dir``; ``False``: its one file goes to
    # ``--output`` or the standard output
    folder: bool = False
    yearly: bool = False  # takes ``--annee``
    periodic: bool = False  # takes ``--periode`` (a name of ``[report.periods]``), ``--du``, ``--au``
