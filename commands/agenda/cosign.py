"""Co-signing a remontée: ``!remontee soutenir|retirer-soutien <n>``, or a 👍 on the bot's
confirmation of it (removing the 👍 withdraws the support). A remontée's author does not
support their own; an answered one is no longer supported. The number of supporters is what
the élus see (``!remontee liste``, the council digest)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from commands.agenda.reactions import RESTATED_WITHIN, STANCES, is_support
from commands.agenda.remontees import ANSWERED, RemonteeRef, remontee
from commands.context import Context
from commands.effects import Reply
from commands.errors import UserError
from commands.events import RoomEvents, took_part
from commands.params import Param

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from storage.models import Remontee
    from storage.repositories import Repositories

REMONTEE = Param("row", RemonteeRef(), shows=("number",))


@remontee.subcommand("soutenir", fr=("soutenir", "soutien", "cosigner"),
                     en=("support", "cosign"), params=(REMONTEE,))
async def soutenir(ctx: Context, row: Remontee) -> Reply:
    if row.status == ANSWERED:
        raise UserError("remontee.support_answered", number=row.id)
    if row.author == ctx.sender:
        raise UserError("remontee.support_own", number=row.id)
    repos = ctx.db()
    if not await repos.remontees.add_support(row.id, ctx.sender, ctx.now):
        raise UserError("remontee.support_twice", number=row.id, prefix=ctx.club.prefix)
    await _audit(repos, ctx.sender, row.id, "supported", ctx.now)
    await ctx.took_part()
    count = (await repos.remontees.support_counts()).get(row.id, 0)
    return Reply(ctx.t("remontee.supported", number=row.id, count=count))


@remontee.subcommand("retirer-soutien", fr=("retirer-soutien", "plus-soutenir", "desoutenir"),
                     en=("unsupport", "withdraw-support"), params=(REMONTEE,))
async def retirer_soutien(ctx: Context, row: Remontee) -> Reply:
    if not await ctx.db().remontees.remove_support(row.id, ctx.sender):
        raise UserError("remontee.support_none", number=row.id)
    await _audit(ctx.db(), ctx.sender, row.id, "unsupported", ctx.now)
    return Reply(ctx.t("remontee.unsupported", number=row.id))


async def record_supports(repos: Repositories, events: RoomEvents, club: Club,
                          t: Translator) -> list[Effect]:
    """A 👍 from a club member on the confirmation of a remontée not answered yet, in the room
    it was raised in, supports it (once per person; the author's own does not count); removing
    that reaction (its redaction, by its author or someone allowed to redact there) withdraws
    the support."""
    for reaction in events.reactions:
        if not is_support(reaction.key):
            continue
        txn = await repos.outbox.txn_of(reaction.target)
        row = await repos.remontees.confirmed_by(txn) if txn else None
        if (row is None or row.status == ANSWERED or row.room_id != reaction.room_id
                or row.author == reaction.sender):
            continue
        if await repos.remontees.add_support(row.id, reaction.sender, reaction.at,
                                             reaction.event_id):
            await took_part(repos, reaction.sender, reaction.at, club)
            await _audit(repos, reaction.sender, row.id, "supported", reaction.at,
                         reaction.event_id)
    for redaction in events.redactions:
        support = await repos.remontees.support_by_reaction(redaction.redacts)
        if support is None:
            continue
        row = await repos.remontees.get(support.remontee_id)
        if row is None or not redaction.takes_back(row.room_id, support.user_id):
            continue
        await repos.remontees.remove_support(row.id, support.user_id)
        await _audit(repos, redaction.sender, row.id, "unsupported", redaction.at or support.at,
                     redaction.redacts)
    return []


async def _audit(repos: Repositories, actor: str, number: int, action: str, at: datetime,
                 reaction: str | None = None) -> None:
    """The audit entry of a support given or withdrawn; the same person's entry on the same
    remontée within ``RESTATED_WITHIN`` takes the new stance instead (a 👍 toggled again and
    again writes one row)."""
    details: dict[str, object] = {"remontee": number}
    if reaction:
        details["reaction"] = reaction
    await repos.audit.restate(actor=actor, subject="remontee", subject_id=number, action=action,
                              at=at, of=STANCES, same="remontee", since=at - RESTATED_WITHIN,
                              **details)
