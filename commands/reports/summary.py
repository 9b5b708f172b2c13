"""The figures said in the room: ``!stats``' lines and the summary ``!bilan`` posts, read from
the same measures and indicators as the report's, so that both say the same figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from commands.reports.content import gather, indicators
from commands.reports.document import Indicator
from commands.reports.indicators import HELD, Measures, active_statuses
from commands.reports.words import NOT_SAID, Words, by_profile, share, shown

if TYPE_CHECKING:
    from commands.context import Club
    from commands.i18n import Translator
    from commands.report_settings import ReportSettings
    from commands.reports.periods import Period
    from storage.repositories import Repositories


def summary_lines(period_label: str, summary: Sequence[Indicator], t: Translator) -> list[str]:
    """The indicators against their targets, what is behind flagged (``!stats``, ``!bilan``)."""
    lines = [t("bilan.summary_title", period=period_label)]
    for i in summary:
        if i.target is None:
            lines.append(t("bilan.line_plain", label=i.label, actual=shown(i.actual)))
        else:
            key = "bilan.line_behind" if i.behind else "bilan.line_reached"
            lines.append(t(key, label=i.label, actual=shown(i.actual), target=shown(i.target),
                           share=share(i)))
    return lines


def stats_text(m: Measures, summary: Sequence[Indicator], w: Words) -> str:
    """``!stats``: the period's figures in a few lines, then its indicators."""
    t = w.t
    held = [e for e in m.events if e.status == HELD]
    participants = sum(m.participants.values())
    new = sum(m.newcomers.values())
    lines = [t("report.stats_title", year=w.period(m.period)), ""]
    if m.period.is_year:
        lines.append(t("report.line_participants", year=participants, total=m.participants_until,
                       new=new))
    else:
        lines.append(t("bilan.line_participants", count=participants,
                       total=m.participants_until, new=new))
    groups = active_statuses(m)
    made = Counter(r.status for r in m.remontees if m.in_period(r.created_at))
    lines += [
        t("report.line_attended", attended=m.attendees, held=len(held),
          attendance=sum(e.attendance for e in held)),
        t("report.line_turnout", total=m.turnout.total,
          without=m.turnout.total - m.turnout.members),
        t("report.line_territory", counts=_counts(t, by_profile(m.participants, 0), w.territory)),
        t("report.line_category", counts=_counts(t, by_profile(m.participants, 1), w.category)),
        t("report.line_groups", count=sum(groups.values()),
          counts=_counts(t, groups, lambda k: w.label("status", k))),
        t("report.line_suggestions", count=sum(m.suggestions.values()),
          accepted=m.suggestions.get("acceptee", 0)),
        t("report.line_remontees", count=sum(made.values()), answered=made.get("repondue", 0)),
        t("report.line_decisions", count=m.decisions.proposals, decided=m.decisions.decided,
          people=m.decisions.people),
        "",
        *summary_lines(w.period(m.period), summary, t)[1:],
    ]
    return "\n".join(lines)


def _counts(t: Translator, counts: dict[str, int], label: Callable[[str], str]) -> str:
    if not counts:
        return t("report.none")
    ordered = sorted(counts.items(), key=lambda item: (item[0] == NOT_SAID, item[0]))
    return ", ".join(f"{label(key)} {value}" for key, value in ordered)


async def stats(repos: Repositories, period: Period, club: Club, t: Translator,
                settings: ReportSettings) -> str:
    """``!stats`` for ``period``: the same measures and indicators as the report's."""
    m = await gather(repos, period, club.tz, detailed=False)
    return stats_text(m, indicators(settings.indicators, m), Words(t, club.tz, club))
