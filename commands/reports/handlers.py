"""``!stats`` and ``!bilan``: the club's figures and the yearly report (coordinators)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.arguments import Integer
from commands.context import Context
from commands.effects import Reply, Upload
from commands.errors import BadArgument
from commands.exports import Export, ExportRun
from commands.params import Param
from commands.registry import command
from commands.reports.figures import yearly_figures
from commands.reports.render import report_files, stats_text
from commands.roles import Role

if TYPE_CHECKING:
    from storage.repositories import Repositories

MIMETYPES = {"md": "text/markdown", "html": "text/html", "csv": "text/csv", "png": "image/png"}


def _year(ctx: Context, year: int | None) -> int:
    current = ctx.now.astimezone(ctx.club.tz).year
    if year is None:
        return current
    if not 2000 <= year <= current:
        raise BadArgument("report.bad_year", value=year, current=current)
    return year


@command("stats", fr=("stats", "statistiques", "chiffres"), en=("statistics",),
         section="reports", role=Role.COORDINATOR, params=(Param("year", Integer(), required=False),))
async def stats(ctx: Context, year: int | None) -> Reply:
    figures = await yearly_figures(ctx.db(), _year(ctx, year), ctx.club.tz, detailed=False)
    return Reply(stats_text(figures, ctx.t))


@command("bilan", fr=("bilan", "rapport"), en=("report", "yearly-report"), section="reports",
         role=Role.COORDINATOR, params=(Param("year", Integer(), required=False),))
async def bilan(ctx: Context, year: int | None) -> Reply:
    figures = await yearly_figures(ctx.db(), _year(ctx, year), ctx.club.tz)
    files = report_files(figures, ctx.t, ctx.club.name, ctx.club.tz)
    uploads = tuple(Upload(ctx.room_id, name, MIMETYPES[name.rsplit(".", 1)[1]], data)
                    for name, data in files.items())
    text = "\n".join([stats_text(figures, ctx.t), "", ctx.t("report.files", count=len(files))])
    return Reply(text, effects=uploads)


async def _yearly_report(repos: Repositories, run: ExportRun) -> dict[str, bytes]:
    """``cct-bot export bilan``: the same files as ``!bilan``'s."""
    figures = await yearly_figures(repos, run.year, run.club.tz)
    return report_files(figures, run.t, run.club.name, run.club.tz)


BILAN = Export("bilan", "le bilan annuel (Markdown, CSV, PNG) / the yearly report", _yearly_report,
               formats=("all",), folder=True, yearly=True)
