"""Support given by a reaction: a 👍 on the bot's confirmation of something members support (a
suggestion for a rencontre's agenda, a remontée aux élus), in the room it was raised in,
supports it once per person; removing the reaction (its redaction, by its author or someone
allowed to redact there) withdraws the support. Both are recorded in the sync batch's
transaction, with the person's participation and an audit entry.

``SupportByReaction`` is that mechanism for one kind of thing supported: where it and its
supports are stored, the checks a 👍 must pass besides being in the right room (``Check``:
not its author's own, not closed…), and the audit trail's subject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from commands.events import Reaction, RoomEvents, took_part

if TYPE_CHECKING:
    from commands.context import Club
    from storage.repositories import Repositories

THUMBS_UP = "👍"
SKIN_TONES = ("", "\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")
STANCES = ("supported", "unsupported")  # the audit trail's actions of a support
RESTATED_WITHIN = timedelta(hours=1)  # a stance changed again within it: one audit entry
SUPPORT_KEYS = frozenset({THUMBS_UP + tone for tone in SKIN_TONES} | {"+1", ":+1:", ":thumbsup:"})


def is_support(key: str) -> bool:
    """👍, 👍🏻…👍🏿 (with or without the emoji variation selector), ``+1``."""
    return key.replace("\ufe0f", "").strip() in SUPPORT_KEYS


class Supportable(Protocol):
    """What a 👍 supports: raised by ``author`` in ``room_id``, where its confirmation is."""

    @property
    def id(self) -> int: ...

    @property
    def room_id(self) -> str: ...

    @property
    def author(self) -> str: ...


class Support(Protocol):
    """A support given: by ``user_id``, at ``at``."""

    @property
    def user_id(self) -> str: ...

    @property
    def at(self) -> datetime: ...


Given = TypeVar("Given", bound=Support)
Kept = TypeVar("Kept", bound=Support, covariant=True)


class SupportStore(Protocol[Kept]):
    """Where the supports (``Kept``) of one kind of thing are kept, by the supported row's id."""

    async def add_support(self, row_id: int, user_id: str, at: datetime,
                          reaction_event_id: str | None = None, /) -> bool: ...

    async def remove_support(self, row_id: int, user_id: str, /) -> bool: ...

    async def support_by_reaction(self, reaction_event_id: str, /) -> Kept | None: ...


Row = TypeVar("Row", bound=Supportable)
# A condition a 👍 (``Reaction``) must meet to support ``Row``, besides being in its room.
Check = Callable[["Repositories", Row, Reaction], Awaitable[bool]]


async def not_own(repos: Repositories, row: Supportable, reaction: Reaction) -> bool:
    """Its author's own 👍 does not count."""
    return row.author != reaction.sender


@dataclass(frozen=True)
class SupportByReaction(Generic[Row, Given]):
    """Support by a 👍 for one kind of thing (``Row``, its supports ``Given``). Its audit
    entries are on ``subject`` number ``subject_id(row)``, the row named by the detail
    ``named``; the same person's entry on the same row within ``RESTATED_WITHIN`` takes the new
    stance instead (a 👍 toggled again and again writes one entry, its latest state; the
    supports are counted apart)."""

    store: Callable[[Repositories], SupportStore[Given]]
    confirmed_by: Callable[[Repositories, str], Awaitable[Row | None]]  # by its txn id
    supported: Callable[[Repositories, Given], Awaitable[Row | None]]  # what a support is for
    checks: tuple[Check[Row], ...]
    subject: str
    named: str
    subject_id: Callable[[Row], int]

    async def record(self, repos: Repositories, events: RoomEvents, club: Club) -> None:
        """The supports the batch's 👍 give, and those its redactions take back."""
        for reaction in events.reactions:
            row = await self.supported_by(repos, reaction)
            if row is not None and await self.store(repos).add_support(
                    row.id, reaction.sender, reaction.at, reaction.event_id):
                await took_part(repos, reaction.sender, reaction.at, club)
                await self.audit(repos, reaction.sender, row, "supported", reaction.at,
                                 reaction.event_id)
        for redaction in events.redactions:
            support = await self.store(repos).support_by_reaction(redaction.redacts)
            row = await self.supported(repos, support) if support else None
            if support and row and redaction.takes_back(row.room_id, support.user_id):
                await self.store(repos).remove_support(row.id, support.user_id)
                await self.audit(repos, redaction.sender, row, "unsupported",
                                 redaction.at or support.at, redaction.redacts)

    async def supported_by(self, repos: Repositories, reaction: Reaction) -> Row | None:
        """What ``reaction`` supports: a 👍 on its confirmation, in its room, that passes every
        check; ``None`` otherwise."""
        if not is_support(reaction.key):
            return None
        txn = await repos.outbox.txn_of(reaction.target, reaction.room_id)
        row = await self.confirmed_by(repos, txn) if txn else None
        if row is None:
            return None
        for check in self.checks:
            if not await check(repos, row, reaction):
                return None
        return row

    async def audit(self, repos: Repositories, actor: str, row: Row, action: str, at: datetime,
                    reaction: str | None = None) -> None:
        """The audit entry of a support given or withdrawn (``action``, one of ``STANCES``),
        with the reaction that did it, if any."""
        details: dict[str, object] = {self.named: row.id}
        if reaction:
            details["reaction"] = reaction
        await repos.audit.restate(actor=actor, subject=self.subject, subject_id=self.subject_id(row),
                                  action=action, at=at, of=STANCES, same=self.named,
                                  since=at - RESTATED_WITHIN, **details)
