"""Comments on a poll: ``!commenter <n> <texte>``, or a reply in the poll's thread (under its
message). Shown with the results (the poll's message and ``!sondage resultats``): the latest
``SHOWN``, with their authors unless the poll is anonymous. Club members only; at most
``limits.comments_per_poll`` per person and poll; while the poll is open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Club, Context
from commands.dispatch import strip_reply_fallback
from commands.effects import Effect, Reply, effect_txn
from commands.errors import UserError
from commands.events import RoomEvents, took_part
from commands.i18n import Translator
from commands.meetings.details import clean_text
from commands.params import Param
from commands.polls import service
from commands.polls.handlers import PollRef
from commands.registry import command

if TYPE_CHECKING:
    from storage.models import Poll
    from storage.repositories import Repositories

TEXT_MAX = 1000  # a comment's length (a longer thread reply is cut)


@command("commenter", fr=("commenter", "commentaire"), en=("comment",), section="polls",
         params=(Param("poll", PollRef(), shows=("number",)),
                 Param("text", Text(10_000), rest=True)))
async def commenter(ctx: Context, poll: Poll, text: str) -> Reply:
    """``!commenter 3 Le samedi arrange les familles``: a comment shown with the results."""
    value = clean_text(text, "text", TEXT_MAX)
    if poll.status != "open":
        raise UserError("comments.closed", number=poll.id)
    limit = ctx.club.limits.comments_per_poll
    if limit and await ctx.db().comments.count_by(poll.id, ctx.sender) >= limit:
        raise UserError("comments.too_many", number=poll.id, limit=limit)
    await ctx.db().comments.add(poll_id=poll.id, author=ctx.sender, text=value, at=ctx.now)
    await ctx.took_part()
    return Reply(ctx.t("comments.added", number=poll.id),
                 then=(await service.changed(ctx.db(), poll, ctx.club, ctx.t),))


async def record_thread_comments(repos: Repositories, events: RoomEvents, club: Club,
                                 t: Translator) -> list[Effect]:
    """A club member's reply in the thread of an open poll's message is a comment (the
    bounds of ``!commenter``: a reply over them is left out, a long one cut); the redaction
    of such a reply, by its author or someone allowed to redact there, removes it. One edit
    of each poll touched whose message is still known (a poll closed long ago may have lost
    it to the messages purge)."""
    touched: dict[int, Poll] = {}
    roots = await _poll_roots(repos) if events.thread_messages else {}
    for message in events.thread_messages:
        txn = await repos.outbox.txn_of(message.root, message.room_id)
        poll = roots.get(txn or "")
        if poll is None:
            continue
        text = " ".join(strip_reply_fallback(message.body).split())[:TEXT_MAX]
        limit = club.limits.comments_per_poll
        if not text or await repos.comments.has_event(message.event_id) or (
                limit and await repos.comments.count_by(poll.id, message.sender) >= limit):
            continue
        await repos.comments.add(poll_id=poll.id, author=message.sender, text=text,
                                 at=message.at, event_id=message.event_id)
        await took_part(repos, message.sender, message.at, club)
        touched[poll.id] = poll
    for redaction in events.redactions:
        comment = await repos.comments.by_event(redaction.redacts)
        poll = await repos.polls.get(comment.poll_id) if comment else None
        if comment is None or poll is None or not redaction.takes_back(poll.room_id,
                                                                         comment.author):
            continue
        await repos.comments.remove(comment)
        touched[poll.id] = poll
    return [await service.refresh(repos, poll, club, t) for poll in touched.values()
            if await repos.outbox.has(effect_txn(service.root_key(poll.id)))]


async def _poll_roots(repos: Repositories) -> dict[str, Poll]:
    """The open polls by the transaction id of their message (their thread's root)."""
    return {effect_txn(service.root_key(poll.id)): poll for poll in await repos.polls.open_polls()}
