"""``!rencontre modifier``: an event's details changed after it is planned (places, title,
link, place, description, theme), announced in its rooms with its updated ``.ics``.

Fewer places than people registered: they all keep theirs, the next ones wait. More places:
the first people waiting get them, told in a direct message (``registration.fill_places``).
The event's row is locked while its places change, as when someone takes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from commands.context import Context
from commands.effects import Effect, Reply
from commands.errors import BadArgument, NotFound, UserError
from commands.meetings import render
from commands.meetings.common import MEETING, editing
from commands.meetings.details import (
    CAPACITY,
    DESCRIPTION,
    DESCRIPTION_MAX,
    LINK,
    PLACE,
    PLACE_MAX,
    THEME,
    TITLE,
    TITLE_MAX,
    clean_text,
)
from commands.meetings.registration import fill_places
from commands.meetings.reminders import REMINDERS_KIND
from commands.meetings.service import announce_change, audit, rooms_of
from commands.meetings.vocabulary import CANCELLED, HELD, PRESENT

if TYPE_CHECKING:
    from storage.models import Meeting

EDITED = (CAPACITY, TITLE, PLACE, LINK, DESCRIPTION, THEME)  # in the announcement's order
_LIMITS = {"title": TITLE_MAX, "place": PLACE_MAX, "description": DESCRIPTION_MAX}
_COLUMNS = {"capacity": "capacity", "title": "title", "place": "place", "link": "link",
            "description": "description", "theme": "theme"}


@editing.subcommand("modifier", fr=("modifier", "changer", "editer"),
                    en=("edit", "change", "update"), params=(MEETING,), options=EDITED)
async def modifier(ctx: Context, meeting: Meeting, **options: Any) -> Reply:
    """``!rencontre modifier <n> [--places n] [--titre …] [--lieu …] [--lien …] …``."""
    wanted = _wanted(options)
    locked = await ctx.db().meetings.locked(meeting.id)
    if locked is None:  # deleted meanwhile
        raise NotFound("meeting.not_found", number=meeting.id)
    if locked.status == CANCELLED:
        raise UserError("meeting.edit_cancelled", number=locked.id)
    if locked.status == HELD or locked.starts_at < ctx.now:
        raise UserError("meeting.edit_past", number=locked.id)
    changed = {name: value for name, value in wanted.items()
               if getattr(locked, _COLUMNS[name]) != value}
    if not changed:
        return Reply(ctx.t("meeting.edit_same", number=locked.id))
    for name, value in changed.items():
        setattr(locked, _COLUMNS[name], value)
    locked.sequence += 1
    locked.updated_at = ctx.now
    await audit(ctx.db(), locked, ctx.sender, "edited", ctx.now,
                **{name: str(value)[:200] for name, value in changed.items()})
    effects = await announce_change(ctx, locked, render.edited(locked, list(changed), ctx.club,
                                                               ctx.t), "edited")
    text = ctx.t("meeting.edited", heading=render.heading(locked, ctx.club, ctx.t),
                 changes=", ".join(ctx.t(f"param.{name}") for name in changed),
                 rooms=len(rooms_of(locked)))
    if "capacity" in changed:
        told, places = await _places(ctx, locked)
        effects += told
        text += places
    return Reply(text, effects=tuple(effects), reschedule=(REMINDERS_KIND,))


def _wanted(options: Mapping[str, Any]) -> dict[str, Any]:
    """The details typed, checked like when planning; at least one."""
    wanted = {option.name: options[option.name] for option in EDITED
              if options.get(option.name) is not None}
    if not wanted:
        raise BadArgument("meeting.edit_nothing",
                              options=", ".join(f"`--{option.fr[0]}`" for option in EDITED))
    for name, limit in _LIMITS.items():
        if name in wanted:
            wanted[name] = clean_text(wanted[name], name, limit)
    return wanted


async def _places(ctx: Context, meeting: Meeting) -> tuple[list[Effect], str]:
    """The places given to the first people waiting, and what the reply adds about them."""
    repos = ctx.db()
    told = await fill_places(repos, meeting, ctx.club, ctx.t, ctx.now, ctx.homeserver())
    taken = len(await repos.meetings.answered(meeting.id, PRESENT))
    capacity = meeting.capacity or 0
    if taken > capacity:
        return told, "\n\n" + ctx.t("meeting.edit_over_capacity", taken=taken,
                                    capacity=capacity)
    if told:
        return told, "\n\n" + ctx.t("meeting.edit_promoted", count=len(told))
    return told, ""
