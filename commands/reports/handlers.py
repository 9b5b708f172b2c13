"""``!stats`` and ``!bilan``: the club's figures and the report for any period (coordinators):
a year (``2025``), a period of the config (``phase2``) or ``--du 2024-01-01 --au 2026-10-31``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from commands.arguments import Text
from commands.context import Club, Context
from commands.dates.days import Day
from commands.effects import Reply, Upload
from commands.exports import Export, ExportRun
from commands.params import Check, Option, Param
from commands.registry import command
from commands.reports import content, periods, summary
from commands.reports.document import ReportDocument
from commands.reports.files import mimetype, report_files
from commands.roles import Role

if TYPE_CHECKING:
    from commands.i18n import Translator
    from storage.repositories import Repositories

PERIOD = (Param("period", Text(40), required=False),)
DAYS = (Option("first_day", Day(), fr=("du",), en=("from",)),
        Option("last_day", Day(), fr=("au",), en=("to",)))
_RENDERING = threading.Lock()  # matplotlib's pyplot keeps global state: one report at a time


def _rendered(document: ReportDocument, t: Translator) -> dict[str, bytes]:
    with _RENDERING:
        return report_files(document, t)


async def render_files(document: ReportDocument, t: Translator) -> dict[str, bytes]:
    """The report's files, written in a worker thread: its charts and document take seconds
    of CPU, during which the event loop goes on (the sync, the other rooms' commands)."""
    return await asyncio.to_thread(_rendered, document, t)


def period_asked(club: Club, now_day: date, raw: str | None, first: date | None,
                 last: date | None, *, default_year: int) -> periods.Period:
    """The period of a command or an export, checked (``BadArgument`` otherwise)."""
    return periods.resolve(raw, first, last, today=now_day, named=club.report.periods,
                           default_year=default_year)


def _period(ctx: Context, raw: str | None, first: date | None, last: date | None,
            years_back: int) -> periods.Period:
    """The period a command asks (by default the current year, or ``years_back`` before)."""
    today = ctx.now.astimezone(ctx.club.tz).date()
    return period_asked(ctx.club, today, raw, first, last, default_year=today.year - years_back)


def _checked(years_back: int) -> Check:
    """Refuses a wrong period before the command runs, its usage shown."""
    async def check(ctx: Context, arguments: Mapping[str, Any]) -> None:
        _period(ctx, arguments["period"], arguments["first_day"], arguments["last_day"],
                years_back)
    return check


@command("stats", fr=("stats", "statistiques", "chiffres"), en=("statistics",),
         section="reports", role=Role.COORDINATOR, params=PERIOD, options=DAYS,
         checks=(_checked(0),))
async def stats(ctx: Context, period: str | None, first_day: date | None,
                last_day: date | None) -> Reply:
    chosen = _period(ctx, period, first_day, last_day, 0)  # by default the current year
    return Reply(await summary.stats(ctx.db(), chosen, ctx.club, ctx.t, ctx.club.report))


@command("bilan", fr=("bilan", "rapport"), en=("report", "yearly-report"), section="reports",
         role=Role.COORDINATOR, params=PERIOD, options=DAYS, checks=(_checked(1),), slow=True)
async def bilan(ctx: Context, period: str | None, first_day: date | None,
                last_day: date | None) -> Reply:
    chosen = _period(ctx, period, first_day, last_day, 1)  # by default the last full year
    repos = ctx.db()
    document = await content.build_report(repos, chosen, ctx.club, ctx.t, ctx.club.report)
    files = await render_files(document, ctx.t)
    uploads = tuple(Upload(ctx.room_id, name, mimetype(name), data)
                    for name, data in files.items())
    lines = summary.summary_lines(document.period_label, document.indicators, ctx.t)
    lines += ["", ctx.t("bilan.files", count=len(files))]
    return Reply("\n".join(lines), effects=uploads)


async def _report(repos: Repositories, run: ExportRun) -> dict[str, bytes]:
    """``cct-bot export bilan``: the same files as ``!bilan``'s."""
    today = run.now.astimezone(run.club.tz).date()
    if run.period or run.first_day or run.last_day:
        chosen = period_asked(run.club, today, run.period or None, run.first_day, run.last_day,
                              default_year=run.year)
    else:
        chosen = period_asked(run.club, today, str(run.year), None, None, default_year=run.year)
    document = await content.build_report(repos, chosen, run.club, run.t, run.club.report)
    return await render_files(document, run.t)


BILAN = Export("bilan", "le bilan (rapport, CSV, graphiques) / the report", _report,
               formats=("all",), folder=True, yearly=True, periodic=True)
