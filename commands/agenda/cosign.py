"""Co-signing a remontée: ``!remontee soutenir|retirer-soutien <n>``, or a 👍 on the bot's
confirmation of it (removing the 👍 withdraws the support). A remontée's author does not
support their own; an answered one is no longer supported. The number of supporters is what
the élus see (``!remontee liste``, the council digest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.agenda.by_reaction import SupportByReaction, not_own
from commands.agenda.remontees import ANSWERED, RemonteeRef, remontee
from commands.context import Context
from commands.effects import Reply
from commands.errors import UserError
from commands.events import Reaction, RoomEvents
from commands.params import Param

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from storage.models import Remontee
    from storage.repositories import Repositories

REMONTEE = Param("row", RemonteeRef(), shows=("number",))


async def not_answered(repos: Repositories, row: Remontee, reaction: Reaction) -> bool:
    """An answered remontée is no longer supported."""
    return row.status != ANSWERED


REMONTEES = SupportByReaction(
    store=lambda repos: repos.remontees,
    confirmed_by=lambda repos, txn: repos.remontees.confirmed_by(txn),
    supported=lambda repos, support: repos.remontees.get(support.remontee_id),
    checks=(not_answered, not_own), subject="remontee", named="remontee",
    subject_id=lambda row: row.id)


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
    await REMONTEES.audit(repos, ctx.sender, row, "supported", ctx.now)
    await ctx.took_part()
    count = (await repos.remontees.support_counts()).get(row.id, 0)
    return Reply(ctx.t("remontee.supported", number=row.id, count=count))


@remontee.subcommand("retirer-soutien", fr=("retirer-soutien", "plus-soutenir", "desoutenir"),
                     en=("unsupport", "withdraw-support"), params=(REMONTEE,))
async def retirer_soutien(ctx: Context, row: Remontee) -> Reply:
    if not await ctx.db().remontees.remove_support(row.id, ctx.sender):
        raise UserError("remontee.support_none", number=row.id)
    await REMONTEES.audit(ctx.db(), ctx.sender, row, "unsupported", ctx.now)
    return Reply(ctx.t("remontee.unsupported", number=row.id))


async def record_supports(repos: Repositories, events: RoomEvents, club: Club,
                          t: Translator) -> list[Effect]:
    """A 👍 from a club member on the confirmation of a remontée not answered yet, in the room
    it was raised in, supports it (once per person; the author's own does not count); removing
    that reaction (its redaction, by its author or someone allowed to redact there) withdraws
    the support."""
    await REMONTEES.record(repos, events, club)
    return []
