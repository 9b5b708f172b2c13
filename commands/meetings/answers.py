"""``!rencontre present|absent|peutetre``: anyone answers for a rencontre still to come (the
``answering`` family's check); an event with places goes through ``registration``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.context import Context
from commands.effects import React, Reply
from commands.meetings.common import NEXT_MEETING, answering
from commands.meetings.registration import answer_with_places
from commands.meetings.service import audit
from commands.meetings.vocabulary import ANSWERS

if TYPE_CHECKING:
    from storage.models import Meeting


@answering.subcommand("present", fr=("present", "presente", "oui", "viens", "inscrire",
                                     "inscription", "sinscrire"),
                      en=("yes", "attending", "going", "register", "sign-up"),
                      params=(NEXT_MEETING,))
async def present(ctx: Context, meeting: Meeting) -> Reply:
    return await record_answer(ctx, meeting, "present")


@answering.subcommand("absent", fr=("absent", "absente", "non"), en=("no", "not-going"),
                      params=(NEXT_MEETING,))
async def absent(ctx: Context, meeting: Meeting) -> Reply:
    return await record_answer(ctx, meeting, "absent")


@answering.subcommand("peutetre", fr=("peutetre", "peut-etre", "peut-etre?"), en=("maybe",),
                      params=(NEXT_MEETING,))
async def peutetre(ctx: Context, meeting: Meeting) -> Reply:
    return await record_answer(ctx, meeting, "peutetre")


async def record_answer(ctx: Context, meeting: Meeting, answer: str) -> Reply:
    """Records the answer and reacts to the command: no message in the room."""
    repos = ctx.db()
    if meeting.capacity is not None:
        return await answer_with_places(ctx, meeting, answer)
    if await repos.meetings.rsvp(meeting.id, ctx.sender) != answer:
        await repos.meetings.set_rsvp(meeting.id, ctx.sender, answer, ctx.now, tz=ctx.club.tz)
        await audit(repos, meeting, ctx.sender, "rsvp", ctx.now, answer=answer)
    return Reply("", effects=(React(ctx.room_id, ctx.event_id, ANSWERS[answer]),))
