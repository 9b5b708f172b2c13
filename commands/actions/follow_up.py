"""« Suivi des actions »: the open actions decided at earlier events, at the top of the next
event's draft agenda."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.actions.common import groups_of, line
from commands.context import Club
from commands.i18n import Translator

if TYPE_CHECKING:
    from datetime import datetime

    from storage.models import Meeting
    from storage.repositories import Repositories

SHOWN = 20  # the rest: « … et 4 autres : !actions »


async def follow_up(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                    now: datetime) -> str:
    """The section (Markdown), or ``""`` when no action is open. For a group's event, only the
    actions in the group's charge or decided at its events."""
    found = list(await repos.actions.open_before(meeting.starts_at, meeting.id,
                                                  meeting.group_id))
    if not found:
        return ""
    groups = await groups_of(repos, found)
    lines = [line(a, groups, club, t, late=a.due_at is not None and a.due_at < now)
             for a in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(t("action.follow_up_more", count=len(found) - SHOWN, prefix=club.prefix))
    return t("action.follow_up_title", count=len(found)) + "\n" + "\n".join(lines)
