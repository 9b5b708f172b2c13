"""Proposals (``!proposition``), positions (``!position``) and the decisions taken
(``!decisions``). A proposal is a poll of kind ``proposal`` with one option: its positions are
votes (agree, abstain, disagree, block, with a reason), given by a native poll or by
``!position``, counted, reminded and closed by the polls' paths (``service``, ``jobs``); at
the close its author or a coordinator writes its outcome, announced and kept."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Context
from commands.dates import format_moment
from commands.effects import Post, Reply
from commands.errors import UserError
from commands.limits import check_daily
from commands.meetings.details import GROUP
from commands.paging import Section, paged
from commands.params import PAGE, Param
from commands.polls import boards, service
from commands.polls.anything import ANONYMOUS, new_poll, opened, opening_place
from commands.polls.charter import decided
from commands.polls.choices import WITHDRAW, read_position
from commands.polls.handlers import (
    CLOSES,
    PollRef,
    audit,
    author_or_coordinator,
    close_now,
    deadline_of,
    find_poll,
)
from commands.registry import PageRequest, command
from commands.text import escape_markdown, pill

if TYPE_CHECKING:
    from storage.models import Poll

TEXT_MAX = 2000
OUTCOME_MAX = 2000


@command("proposition", fr=("proposition", "propositions"), en=("proposal", "proposals"),
         section="polls", params=(Param("text", Text(max_length=TEXT_MAX), rest=True),),
         options=(replace(CLOSES, required=True), ANONYMOUS, GROUP))
async def proposition(ctx: Context, text: str, closes: str, anonymous: bool,
                      group: str | None) -> Reply:
    """``!proposition <texte> --cloture <quand> [--anonyme]``: a proposal in this room (a
    group's: any member; elsewhere: the coordinators)."""
    deadline = deadline_of(ctx, closes)
    place = await opening_place(ctx, group)
    poll = await new_poll(ctx, text, place, deadline, "proposal", anonymous=anonymous)
    key = ("decisions.proposal_opened_in_group" if place.elsewhere
           else "decisions.proposal_opened")
    return await opened(ctx, poll, key, group=place.elsewhere)



def _proposal(poll: Poll) -> Poll:
    if poll.kind != "proposal":
        raise UserError("decisions.not_a_proposal", number=poll.id)
    return poll


@proposition.subcommand("resultats", fr=("resultats", "résultats"), en=("results",),
                        params=(Param("poll", PollRef(), required=False, shows=("number",)),),
                        names_people=True)
async def resultats(ctx: Context, poll: Poll) -> Reply:
    return Reply(await service.message(ctx.db(), poll, ctx.club, ctx.t, boards.ON_DEMAND))


@proposition.subcommand("cloturer", fr=("cloturer", "clôturer", "clore", "fermer"),
                        en=("close", "end"),
                        params=(Param("poll", PollRef(), shows=("number",)),))
async def cloturer(ctx: Context, poll: Poll) -> Reply:
    """Closes a proposal before its deadline: its author or a coordinator."""
    author_or_coordinator(ctx, poll)
    _proposal(poll)
    return await close_now(ctx, poll, "decisions.closing")


@proposition.subcommand("issue", fr=("issue", "decision", "décision", "resultat-final"),
                        en=("outcome", "decision"),
                        params=(Param("poll", PollRef(), shows=("number",)),
                                Param("text", Text(max_length=OUTCOME_MAX), rest=True)))
async def issue(ctx: Context, poll: Poll, text: str) -> Reply:
    """Writes (or rewrites) a closed proposal's outcome: kept, shown in its message, announced
    in its room, listed by ``!decisions``."""
    author_or_coordinator(ctx, poll)
    _proposal(poll)
    if poll.status == "open":
        raise UserError("decisions.outcome_while_open", number=poll.id, prefix=ctx.club.prefix)
    await check_daily(ctx, "outcomes_per_day")
    repos = ctx.db()
    again = poll.outcome is not None
    charter = await decided(ctx, poll, text)  # a new version of the charter adopted or not
    await repos.polls.set_outcome(poll, text, ctx.sender, ctx.now)
    await audit(ctx, poll, "decided")
    announcement = ctx.t("decisions.outcome_announced", number=poll.id,
                         question=boards.quote([escape_markdown(line) for line
                                                in poll.question[:300].splitlines()]),
                         text=escape_markdown(text), who=pill(ctx.sender))
    if charter.note:
        announcement += "\n\n" + charter.note
    effects = [await service.refresh(repos, poll, ctx.club, ctx.t), *charter.effects]
    if poll.room_id == ctx.room_id:
        return Reply(announcement, effects=tuple(effects))
    effects.append(Post(poll.room_id, Reply(announcement)))  # the command's own transaction id
    return Reply(ctx.t("decisions.outcome_recorded_again" if again
                       else "decisions.outcome_recorded", number=poll.id),
                 effects=tuple(effects))


@command("position", fr=("position", "positionner", "avis"), en=("stance",), section="polls",
         params=(Param("line", Text(max_length=700), rest=True,
                       shows=("number", "stance", "reason?")),))
async def position(ctx: Context, line: str) -> Reply:
    """``!position <n> d'accord|abstention|pas-d'accord|bloquer [raison]`` (``retirer``): the
    sender's position on an open proposal, with its reason (a block needs one)."""
    read = read_position(line)
    poll = _proposal(await find_poll(ctx, read.poll))
    if poll.status != "open":
        raise UserError("polls.closed_no_vote", number=poll.id)
    repos = ctx.db()
    [slot] = await repos.polls.slots(poll.id)
    answer = None if read.answer == WITHDRAW else read.answer
    _, mine = await repos.polls.cast(
        poll_id=poll.id, user_id=ctx.sender, answers=[(slot.id, answer)], source="text",
        at=ctx.sent_at, event_id=ctx.event_id, tz=ctx.club.tz,
        reasons={slot.id: read.reason} if read.reason else None)
    follow = (await service.changed(repos, poll, ctx.club, ctx.t),)
    if slot.id not in mine:
        return Reply(ctx.t("decisions.position_withdrawn", number=poll.id), then=follow)
    label = boards.position_label(mine[slot.id], ctx.t)
    key = "decisions.position_taken_reason" if read.reason else "decisions.position_taken"
    return Reply(ctx.t(key, number=poll.id, position=label,
                       reason=escape_markdown(read.reason or "")), then=follow)


@command("decisions", fr=("decisions", "décisions"), en=("decisions",), section="polls",
         options=(PAGE,), names_people=True)
async def decisions(ctx: Context, page: PageRequest) -> Reply:
    """The proposals whose outcome is written, the latest first."""
    found = await ctx.db().polls.decisions()
    if not found:
        return Reply(ctx.t("decisions.none", prefix=ctx.club.prefix))
    lines = [boards.decision_line(poll, format_moment(poll.outcome_at or poll.created_at,
                                                      ctx.t.language, ctx.club.tz))
             for poll in found]
    section = Section(lines, heading=ctx.t("decisions.title", count=len(found)))
    return Reply(paged(page, [section], ctx.t, ctx.club.prefix))
