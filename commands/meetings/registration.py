"""Registration for an event with places (``capacity``): ``present`` takes a place or joins
the waiting list, any other answer gives the place back, and the first person waiting gets it,
told in a direct message.

Places are answers (``meeting_rsvps``): ``present`` holds one, ``attente`` waits, in the order
they were given. The event's row is locked while a place is counted and taken
(``MeetingRepository.locked``): two people taking the last place at once, one gets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.context import Club, Context, RoomOutcome
from commands.effects import Effect, Leave, Outcome, Post, React, Reply
from commands.errors import NotFound, UserError
from commands.i18n import Translator
from commands.meetings import render
from commands.meetings.service import audit, rooms_of
from commands.meetings.vocabulary import ANSWERS, CANCELLED, HELD, PRESENT, WAITING
from commands.privately import message, tell_privately
from commands.text import pill

if TYPE_CHECKING:
    from datetime import datetime

    from commands.ports import MatrixPort
    from storage.models import Meeting
    from storage.repositories import Repositories

PLACE_GIVEN = "meeting_place"  # the outcome of the direct room opened to tell of a place


def refuse_if_closed(meeting: Meeting, now: datetime) -> None:
    """No answer (nor sign-up) to a cancelled event, one under way or one that has taken
    place."""
    if meeting.status == CANCELLED:
        raise UserError("meeting.answer_cancelled", number=meeting.id)
    if meeting.status == HELD or meeting.ends_at <= now:
        raise UserError("meeting.answer_past", number=meeting.id)
    if meeting.starts_at < now:
        raise UserError("meeting.answer_started", number=meeting.id)


async def answer_with_places(ctx: Context, meeting: Meeting, answer: str) -> Reply:
    """A person's answer to an event with places."""
    repos = ctx.db()
    locked = await repos.meetings.locked(meeting.id)
    if locked is None:  # deleted meanwhile
        raise NotFound("meeting.not_found", number=meeting.id)
    refuse_if_closed(locked, ctx.now)  # cancelled or moved since it was read
    before = await repos.meetings.rsvp(meeting.id, ctx.sender)
    if answer == PRESENT:
        return await _take_place(ctx, locked, before)
    if before == answer:
        return Reply("", effects=(React(ctx.room_id, ctx.event_id, ANSWERS[answer]),))
    await _record(ctx, locked, answer)
    if before == WAITING:
        return Reply(ctx.t("meeting.left_waiting", heading=render.heading(locked, ctx.club, ctx.t)))
    if before != PRESENT:
        return Reply("", effects=(React(ctx.room_id, ctx.event_id, ANSWERS[answer]),))
    told = await fill_places(repos, locked, ctx.club, ctx.t, ctx.now, ctx.homeserver())
    key = "meeting.withdrawn_promoted" if told else "meeting.withdrawn"
    return Reply(ctx.t(key, heading=render.heading(locked, ctx.club, ctx.t)), effects=tuple(told))


async def _take_place(ctx: Context, meeting: Meeting, before: str | None) -> Reply:
    """A place if one is free, else the end of the waiting list (nothing changes for someone
    registered or waiting already)."""
    repos = ctx.db()
    facts = {"heading": render.heading(meeting, ctx.club, ctx.t), "number": meeting.id,
             "when": render.when(meeting, ctx.club, ctx.t), "prefix": ctx.club.prefix}
    if before == PRESENT:
        return Reply(ctx.t("meeting.already_registered", **facts))
    waiting = await repos.meetings.answered(meeting.id, WAITING)
    if before == WAITING:
        return Reply(ctx.t("meeting.already_waiting", position=waiting.index(ctx.sender) + 1,
                           **facts))
    taken = len(await repos.meetings.answered(meeting.id, PRESENT))
    if taken < (meeting.capacity or 0) and not waiting:
        await _record(ctx, meeting, PRESENT)
        return Reply(ctx.t("meeting.registered", free=(meeting.capacity or 0) - taken - 1,
                           **facts))
    await _record(ctx, meeting, WAITING)
    return Reply(ctx.t("meeting.waiting", position=len(waiting) + 1, **facts))


async def _record(ctx: Context, meeting: Meeting, answer: str) -> None:
    repos = ctx.db()
    await repos.meetings.set_rsvp(meeting.id, ctx.sender, answer, ctx.now, tz=ctx.club.tz)
    await audit(repos, meeting, ctx.sender, "rsvp", ctx.now, answer=answer)


async def fill_places(repos: Repositories, meeting: Meeting, club: Club, t: Translator,
                      now: datetime, matrix: MatrixPort) -> list[Effect]:
    """Gives the free places to the first people waiting (the meeting's row locked by the
    caller); returns the direct messages telling them (or the rooms to open for that: if one
    cannot be opened, the person is told in the event's first room, which the club's members
    share — never in the room where someone else withdrew)."""
    told_in = next(iter(rooms_of(meeting)), None) or club.rooms.get("main", "")
    taken = len(await repos.meetings.answered(meeting.id, PRESENT))
    waiting = await repos.meetings.answered(meeting.id, WAITING)
    effects: list[Effect] = []
    for user in waiting[:max((meeting.capacity or 0) - taken, 0)]:
        await repos.meetings.set_rsvp(meeting.id, user, PRESENT, now, tz=club.tz)
        await audit(repos, meeting, user, "place_given", now)
        effects += await tell_privately(
            repos, matrix, user, message(Reply(_place_given(meeting, club, t)), user), told_in,
            Outcome(PLACE_GIVEN, {"user_id": user, "meeting_id": meeting.id}))
    return effects


async def give_back_places(repos: Repositories, user: str, club: Club, t: Translator,
                           now: datetime, matrix: MatrixPort) -> list[Effect]:
    """Before ``user`` is erased: their answers to the events with places to come are
    withdrawn (a place held goes to the first person waiting, told as by ``fill_places``);
    returns the messages telling them."""
    effects: list[Effect] = []
    for number in await repos.meetings.places_held(user, now):
        meeting = await repos.meetings.locked(number)
        if meeting is None:
            continue
        held = await repos.meetings.rsvp(number, user)
        await repos.meetings.clear_rsvp(number, user)
        await audit(repos, meeting, user, "place_released", now)
        if held == PRESENT:
            effects.extend(await fill_places(repos, meeting, club, t, now, matrix))
    return effects


def _place_given(meeting: Meeting, club: Club, t: Translator) -> str:
    link = t("meeting.promoted_link", link=f"<{meeting.link}>") if meeting.link else ""
    return t("meeting.promoted", heading=render.heading(meeting, club, t),
             when=render.when(meeting, club, t), place=render.where(meeting, t), link=link,
             number=meeting.id, prefix=club.prefix)


async def direct_room_opened(done: RoomOutcome) -> tuple[Effect, ...]:
    """The direct room to tell someone of their place is open (remembered, told there), or
    was refused (told, mentioned, where the place was freed). Someone no longer registered
    meanwhile (withdrawn, forgotten) is told nothing; the bot leaves the room."""
    user, number = str(done.data["user_id"]), int(done.data["meeting_id"])
    meeting = await done.repos.meetings.get(number)
    if meeting is None or await done.repos.meetings.rsvp(number, user) != PRESENT:
        return (Leave(done.room_id),) if done.room_id else ()
    if done.room_id is None:
        text = done.t("meeting.promoted_no_direct_room", user=pill(user),
                      heading=render.heading(meeting, done.club, done.t),
                      when=render.when(meeting, done.club, done.t))
        return (Post(done.told_in, Reply(text, mentions=(user,)), about=(user,)),)
    await done.repos.participants.set_direct_room(user, done.room_id)
    return (Post(done.room_id, Reply(_place_given(meeting, done.club, done.t)), about=(user,)),)
