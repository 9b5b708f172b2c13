"""How groups look in the room: the list table, the full card, members, history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from commands.dates.format import babel_locale
from commands.i18n import Translator
from commands.paging import Section
from commands.projects.names import group_label
from commands.text import escape_markdown, euros, pill, room_link, shorten
from commands.vocabulary import NEED_KINDS, STATUSES, TERRITORIES, THEMES

if TYPE_CHECKING:
    from storage.models import (
        AuditEntry,
        GroupFunding,
        GroupMember,
        GroupNeed,
        GroupProgress,
        ProjectGroup,
    )
    from storage.projects import GroupSummary

MEMBERS_IN_CARD = 10
FUNDING_IN_CARD = 5  # the latest funding lines a card shows (the earlier ones: a count, a total)
TABLE_CELL = 40


def day(moment: datetime, tz: ZoneInfo, t: Translator) -> str:
    """``14/01/2027`` in the club's time zone."""
    return format_date(moment.astimezone(tz).date(), "short", locale=babel_locale(t.language))


def table(groups: Sequence[GroupSummary], t: Translator) -> str:
    """The compact list: one row per group."""
    head = t("projects.table_head")
    lines = [head, "|" + "---|" * head.count("|", 1)]
    for group in groups:
        cells = [str(group.id), f"{escape_markdown(shorten(group.name, TABLE_CELL))} (`{group.slug}`)",
                 THEMES.label(group.theme, t), TERRITORIES.label(group.territory, t),
                 STATUSES.label(group.status, t), str(group.members)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def card(group: ProjectGroup, members: Sequence[GroupMember], tz: ZoneInfo, t: Translator,
         prefix: str, funding: Sequence[GroupFunding] = ()) -> str:
    """Who and what one group is (``!projet info``, above its needs and news)."""
    lines = [f"**{group_label(group)}** (`{group.slug}`)"]
    if group.description:
        lines += ["", escape_markdown(group.description)]
    lines += ["", t("projects.card_facts", theme=THEMES.label(group.theme, t),
                    territory=TERRITORIES.label(group.territory, t),
                    status=STATUSES.label(group.status, t))]
    referents = [m.user_id for m in members if m.referent]
    lines.append(t("projects.card_referents",
                   names=some_people(referents, group, t, prefix) or t("projects.nobody")))
    lines.append(t("projects.card_members", count=len(members),
                   names=some_people([m.user_id for m in members], group, t, prefix)
                   or t("projects.nobody")))
    if group.room_id:
        lines.append(t("projects.card_room", room=room_link(group.room_id, group.name)))
    lines.append(t("projects.card_funding", funding=funding_text(group, funding, t)))
    lines.append(t("projects.card_created", date=day(group.created_at, tz, t),
                   who=pill(group.created_by)))
    return "\n".join(lines)


def funding_text(group: ProjectGroup, funding: Sequence[GroupFunding], t: Translator) -> str:
    """The group's latest ``FUNDING_IN_CARD`` funding lines (the earlier ones counted, with
    their total), then its funding note."""
    earlier, latest = funding[:-FUNDING_IN_CARD], funding[-FUNDING_IN_CARD:]
    obtained = [t("projects.card_funding_earlier", count=len(earlier),
                  total=euros(sum(f.amount_cents for f in earlier)))] if earlier else []
    obtained += [t("projects.card_funding_line", amount=euros(f.amount_cents), number=f.id,
                   funder=escape_markdown(f.funder), date=format_date(
                       f.obtained_on, "short", locale=babel_locale(t.language)))
                 for f in latest]
    if group.funding or not obtained:
        obtained.append(escape_markdown(group.funding) if group.funding else t("projects.none"))
    return " ; ".join(obtained)


def some_people(user_ids: Sequence[str], group: ProjectGroup, t: Translator, prefix: str) -> str:
    """The first ``MEMBERS_IN_CARD`` people as pills, then how many more and where they are."""
    shown = ", ".join(pill(user_id) for user_id in user_ids[:MEMBERS_IN_CARD])
    if len(user_ids) > MEMBERS_IN_CARD:
        shown += " " + t("projects.and_more", count=len(user_ids) - MEMBERS_IN_CARD,
                         prefix=prefix, slug=group.slug)
    return shown


def need_section(needs: Sequence[GroupNeed], t: Translator) -> Section:
    if not needs:
        return Section([t("projects.card_no_needs")])
    return Section([f"- n°{n.id} ({NEED_KINDS.label(n.kind, t)}) {escape_markdown(n.text)}"
                    for n in needs], heading=t("projects.card_needs"))


def progress_section(progress: Sequence[GroupProgress], total: int, tz: ZoneInfo,
                     t: Translator) -> Section:
    if not progress:
        return Section([t("projects.card_no_progress")])
    return Section([f"- {day(p.created_at, tz, t)} — {pill(p.author)} : {escape_markdown(p.text)}"
                    for p in progress],
                   heading=t("projects.card_progress", shown=len(progress), total=total))


def member_lines(group: ProjectGroup, members: Sequence[GroupMember], tz: ZoneInfo,
                 t: Translator) -> Section:
    """``!projet membres``: one line per member, referents first."""
    lines = []
    for member in members:
        role = " " + t("projects.referent_mark") if member.referent else ""
        lines.append(f"- {pill(member.user_id)}{role} — "
                     + t("projects.member_since", date=day(member.joined_at, tz, t)))
    if not lines:  # everyone left: still an answer
        lines.append(t("projects.members_none"))
    return Section(lines, heading=t("projects.members_title", group=group_label(group),
                                    count=len(members)))


def audit_lines(group: ProjectGroup, entries: Sequence[AuditEntry], total: int, tz: ZoneInfo,
                t: Translator) -> str:
    lines = [t("projects.history_title", group=group_label(group), shown=len(entries), total=total)]
    for entry in entries:
        details = {k: escape_markdown(str(v)) for k, v in json.loads(entry.details).items()}
        what = t(f"audit.{entry.action}", **details)
        when = day(entry.at, tz, t) + " " + entry.at.astimezone(tz).strftime("%H:%M")
        lines.append(f"- {when} — {pill(entry.actor)} : {what}")
    return "\n".join(lines)
