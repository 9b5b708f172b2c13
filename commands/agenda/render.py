"""How the agenda looks in the rooms: the table with its time column, the draft, the list of
suggestions, the « mis à jour » messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from commands.agenda.lines import Line, Timed
from commands.context import Club
from commands.dates import format_moment, format_short, format_time
from commands.i18n import Translator
from commands.meetings import render as meeting_render
from commands.paging import Section
from commands.text import escape_markdown, one_line, pill, shorten

if TYPE_CHECKING:
    from storage.models import AgendaSuggestion, Meeting

NEWS_SHOWN = 200
TITLE_IN_CHANGES = 80
SUGGESTIONS_SHOWN = 40


def news(text: str, at: datetime, club: Club, t: Translator) -> str:
    """A group's latest progress entry, dated."""
    return t("odj.news", date=format_short(at, t.language, club.tz).split(" ")[0],
             text=shorten(" ".join(text.split()), NEWS_SHOWN))


def _time(at: datetime, club: Club, t: Translator) -> str:
    return format_time(at, t.language, club.tz)


def _people(users: Sequence[str]) -> str:
    return ", ".join(pill(user) for user in users)


def _point(line: Line) -> str:
    text = f"{escape_markdown(one_line(line.title))} (n°{line.id})"
    if line.note:
        text += f" — {escape_markdown(one_line(line.note))}"
    return text


def table(timed: Sequence[Timed], end: datetime, club: Club, t: Translator) -> str:
    """The agenda as a table: position, time, item (with its number), duration, method, who."""
    return "\n".join([_table_head(t), *_table_rows(timed, club, t), _table_end(end, club, t)])


def _table_head(t: Translator) -> str:
    return t("odj.table_head") + "\n|---|---|---|---|---|---|"


def _table_rows(timed: Sequence[Timed], club: Club, t: Translator) -> list[str]:
    return [f"| {row.position} | {_time(row.start, club, t)} | {_point(row.line)} | "
            f"{t('odj.minutes', minutes=row.line.minutes)} | "
            f"{escape_markdown(one_line(row.line.method)) or '—'} | "
            f"{_people(row.line.presenters) or '—'} |"
            for row in timed]


def _table_end(end: datetime, club: Club, t: Translator) -> str:
    return f"|  | {_time(end, club, t)} | {t('odj.end_row')} |  |  |  |"


def _title(meeting: Meeting, club: Club, t: Translator, key: str) -> str:
    return t(key, number=meeting.id, when=meeting_render.when(meeting, club, t),
             place=meeting_render.place(meeting.place, t))


def _end(timed: Sequence[Timed]) -> datetime | None:
    if not timed:
        return None
    last = timed[-1]
    return last.start + timedelta(minutes=last.line.minutes)


def _overrun(meeting: Meeting, end: datetime, club: Club, t: Translator) -> str:
    if end <= meeting.ends_at:
        return ""
    return "\n\n" + t("odj.overrun", end=_time(end, club, t),
                      planned=_time(meeting.ends_at, club, t))


def published(meeting: Meeting, timed: Sequence[Timed], club: Club, t: Translator) -> str:
    """The agenda everyone sees (posted and pinned)."""
    end = _end(timed) or meeting.starts_at
    return (_title(meeting, club, t, "odj.published_title") + "\n\n"
            + table(timed, end, club, t) + _overrun(meeting, end, club, t))


def draft(meeting: Meeting, timed: Sequence[Timed], pending: Sequence[AgendaSuggestion],
          deadline: datetime, now: datetime, club: Club, t: Translator,
          follow_up: str = "") -> str:
    """The draft posted in the rooms: the actions to follow up (``follow_up``), the items so
    far, the suggestions waiting, how to add."""
    parts = [_title(meeting, club, t, "odj.draft_title")]
    if follow_up:
        parts.append(follow_up)
    if timed:
        end = _end(timed) or meeting.starts_at
        parts.append(table(timed, end, club, t) + _overrun(meeting, end, club, t))
    else:
        parts.append(t("odj.draft_empty"))
    if pending:
        parts.append(t("odj.draft_pending", count=len(pending)) + "\n"
                     + "\n".join(f"- n°{s.id} {escape_markdown(shorten(one_line(s.text), 120))}"
                                 for s in pending[:SUGGESTIONS_SHOWN]))
    if deadline > now:
        parts.append(t("odj.draft_invite", deadline=format_moment(deadline, t.language, club.tz),
                       prefix=club.prefix, number=meeting.id))
    else:
        parts.append(t("odj.draft_closed", prefix=club.prefix, number=meeting.id))
    return "\n\n".join(parts)


def suggestion_line(suggestion: AgendaSuggestion, supports: int, t: Translator) -> str:
    status = t(f"odj.status_{suggestion.status}")
    text = (f"- n°{suggestion.id} {escape_markdown(shorten(one_line(suggestion.text), 200))} — "
            f"{pill(suggestion.author)} — {status} — {t('odj.supports', count=supports)}")
    if suggestion.reason:
        text += " — " + t("odj.reason_shown",
                          reason=escape_markdown(one_line(suggestion.reason)))
    return text


def listing(meeting: Meeting, suggestions: Sequence[AgendaSuggestion], supports: Mapping[int, int],
            timed: Sequence[Timed], deadline: datetime, published_version: int | None,
            now: datetime, club: Club, t: Translator) -> tuple[str, list[Section]]:
    """``!odj liste``: the title and deadline, then the suggestions and their status, then the
    current draft (sections to cut into pages)."""
    when = format_moment(deadline, t.language, club.tz)
    head = "\n\n".join([
        _title(meeting, club, t, "odj.list_title"),
        t("odj.list_deadline_open" if deadline > now else "odj.list_deadline_closed",
          deadline=when)])
    if suggestions:
        proposed = Section([suggestion_line(s, supports.get(s.id, 0), t) for s in suggestions],
                           heading=t("odj.list_suggestions", count=len(suggestions)))
    else:
        proposed = Section([t("odj.list_no_suggestion", prefix=club.prefix)])
    if not timed:
        return head, [proposed, Section([t("odj.list_no_item")])]
    title = (t("odj.list_published", version=published_version) if published_version
             else t("odj.list_draft"))
    end = _end(timed) or meeting.starts_at
    agenda = Section(_table_rows(timed, club, t), heading=f"{title}\n\n{_table_head(t)}",
                     after=_table_end(end, club, t) + _overrun(meeting, end, club, t))
    return head, [proposed, agenda]


def summary(meeting: Meeting, timed: Sequence[Timed], club: Club, t: Translator) -> str:
    """Short Markdown: one line per item with its time (for reminders)."""
    lines = [t("odj.summary_title", number=meeting.id)]
    for row in timed:
        who = f" — {_people(row.line.presenters)}" if row.line.presenters else ""
        lines.append(f"- {_time(row.start, club, t)} "
                     f"{escape_markdown(one_line(row.line.title))}{who}")
    return "\n".join(lines)


# --- « ordre du jour mis à jour » ---------------------------------------------------------------

def _short(line: Line) -> str:
    return escape_markdown(shorten(one_line(line.title), TITLE_IN_CHANGES))


def change_added(row: Timed, club: Club, t: Translator) -> str:
    return t("odj.change_added", number=row.line.id, title=_short(row.line),
             position=row.position, time=_time(row.start, club, t), minutes=row.line.minutes)


def change_moved(row: Timed, t: Translator) -> str:
    return t("odj.change_moved", number=row.line.id, title=_short(row.line),
             position=row.position)


def change_removed(line: Line, t: Translator) -> str:
    return t("odj.change_removed", number=line.id, title=_short(line))


def change_edited(old: Line, new: Line, t: Translator) -> str:
    parts = []
    if old.title != new.title:
        parts.append(t("odj.edited_title", title=_short(new)))
    if old.minutes != new.minutes:
        parts.append(t("odj.minutes", minutes=new.minutes))
    if old.method != new.method:
        parts.append(t("odj.edited_method", method=escape_markdown(new.method) or "—"))
    if old.presenters != new.presenters:
        parts.append(t("odj.edited_presenters", names=_people(new.presenters) or "—"))
    return t("odj.change_edited", number=new.id, title=_short(old), what=", ".join(parts))


def change_times(rows: Sequence[Timed], club: Club, t: Translator) -> str:
    times = ", ".join(f"{_time(row.start, club, t)} « {_short(row.line)} »" for row in rows)
    return t("odj.change_times", times=times)


def change_end(end: datetime, club: Club, t: Translator) -> str:
    return t("odj.change_end", end=_time(end, club, t))


def changed(meeting: Meeting, changes: Sequence[str], club: Club, t: Translator) -> str:
    return (t("odj.changed_title", number=meeting.id, when=meeting_render.when(meeting, club, t))
            + "\n" + "\n".join(f"- {change}" for change in changes))
