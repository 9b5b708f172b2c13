"""A new version of the cadre de confiance put to the club (``!cadre proposer``): an ordinary
proposal (positions, reminder, close, outcome) that also carries the version's label and text.
Its outcome says whether it is adopted (``adoptée`` / ``rejetée`` first); adopted, the version
becomes the club's charter (``commands.charter``) and those who adopted an older one are asked
to adopt it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from commands import charter
from commands.arguments import Text
from commands.charter import cadre
from commands.context import Context
from commands.effects import Effect, Reply
from commands.errors import BadArgument, Forbidden, UserError
from commands.params import Param
from commands.polls.anything import ANONYMOUS, Place, new_poll, opened
from commands.polls.handlers import CLOSES, deadline_of
from commands.roles import Role
from commands.text import escape_markdown, fold

if TYPE_CHECKING:
    from storage.models import Poll

# A Matrix message holds the command and the text (``commands.arguments.MAX_LINE``: 4 000).
CHARTER_MAX = 3800
ADOPTED = frozenset({"adoptee", "adopte", "adoptees", "adoptes", "adopted"})
REJECTED = frozenset({"rejetee", "rejete", "rejetees", "rejetes", "rejected"})
_FIRST_WORD = re.compile(r"[\W_]*(\w+)")  # quotes, dashes, spaces before it left out


@cadre.subcommand("proposer", fr=("proposer", "nouvelle-version"), en=("propose",),
                  role=Role.COORDINATOR,
                  params=(Param("version", Text(max_length=80)),
                          Param("charter_text", Text(max_length=CHARTER_MAX), lines=True)),
                  options=(replace(CLOSES, required=True), ANONYMOUS))
async def proposer(ctx: Context, version: str, charter_text: str, closes: str,
                   anonymous: bool) -> Reply:
    """``!cadre proposer <version> --cloture <quand> [--anonyme]``, the new text on the
    following lines: a proposal, in the club's main room, to make it the club's charter."""
    if not charter.valid_version(version):
        raise BadArgument("charter_proposal.bad_version", value=escape_markdown(version[:80]))
    repos = ctx.db()
    known = await charter.known_version(repos, ctx.club, version)
    if known is not None:
        raise BadArgument("charter_proposal.version_exists", value=escape_markdown(known))
    deadline = deadline_of(ctx, closes)
    main = ctx.club.rooms.get("main") or ctx.room_id
    question = ctx.t("charter_proposal.question", version=version)
    poll = await new_poll(ctx, question, Place(main, "tout", ""), deadline, "proposal",
                          anonymous=anonymous)
    await repos.charter.propose(poll.id, version, charter_text)
    key = ("charter_proposal.opened" if main == ctx.room_id
           else "charter_proposal.opened_in_main")
    return await opened(ctx, poll, key, version=escape_markdown(version))


def outcome_word(text: str) -> bool | None:
    """Whether an outcome's first word says adopted (``True``), rejected (``False``), or
    neither (``None``): ``Adoptée : …``, ``rejected, 3 blocks``."""
    first = _FIRST_WORD.match(text)
    word = fold(first.group(1)) if first else ""
    return True if word in ADOPTED else False if word in REJECTED else None


@dataclass(frozen=True)
class Decided:
    """What a charter proposal's outcome does besides being recorded: a line added to its
    announcement, and the call to adopt the new version."""

    note: str = ""
    effects: tuple[Effect, ...] = ()


async def decided(ctx: Context, poll: Poll, text: str) -> Decided:
    """The outcome ``text`` of ``poll`` checked and, for a proposal of a new charter, acted
    on before it is recorded: adopted, its version becomes the club's charter (once; a
    rewritten outcome of an adopted version must still say adopted); rejected, nothing else.
    ``UserError`` (nothing written) when it says neither, or adopts a label taken since."""
    repos = ctx.db()
    proposed = await repos.charter.proposal(poll.id)
    if proposed is None:
        return Decided()
    if ctx.role < Role.COORDINATOR:  # its author may no longer be one
        raise Forbidden("error.coordinators_only")
    adopted = outcome_word(text)
    version = escape_markdown(proposed.version)
    if adopted is None:
        raise BadArgument("charter_proposal.outcome_word", number=poll.id,
                          prefix=ctx.club.prefix, version=version)
    recorded = await repos.charter.version(proposed.version)
    if recorded is not None and recorded.poll_id == poll.id:
        if not adopted:
            raise UserError("charter_proposal.adopted_already", number=poll.id, version=version,
                            prefix=ctx.club.prefix)
        return Decided(await _adopted_note(ctx, proposed.version))
    if not adopted:
        return Decided(ctx.t("charter_proposal.rejected_note", version=version))
    taken = next((row.version for row in await repos.charter.versions()
                  if charter.same_version(row.version, proposed.version)), None)
    if taken is not None:
        raise UserError("charter_proposal.version_taken", number=poll.id,
                        version=escape_markdown(taken))
    await repos.charter.record_version(proposed.version, proposed.text, ctx.now, poll.id)
    asks = await charter.charter_version_adopted(repos, ctx.club, ctx.t, proposed.version,
                                                 ctx.now)
    return Decided(ctx.t("charter_proposal.adopted_note", version=version,
                         prefix=ctx.club.prefix), tuple(asks))



async def _adopted_note(ctx: Context, label: str) -> str:
    """The line that tells a reworded outcome of an adopted version: the club's charter, or,
    once a later version is in force, that one."""
    shown = await charter.current(ctx.db(), ctx.club)
    version = escape_markdown(label)
    if shown is None or shown.version == label:
        return ctx.t("charter_proposal.adopted_note", version=version, prefix=ctx.club.prefix)
    return ctx.t("charter_proposal.adopted_before", version=version,
                 current=escape_markdown(shown.version), prefix=ctx.club.prefix)
