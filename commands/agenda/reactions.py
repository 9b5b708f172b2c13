"""Supports given with a 👍 on a suggestion's confirmation message, and taken back by removing
the reaction (its redaction), recorded in the sync batch's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from commands.agenda.service import ACCEPTED, CANCELLED, HELD, PROPOSED
from commands.events import RoomEvents, took_part

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from storage.repositories import Repositories

THUMBS_UP = "👍"
SKIN_TONES = ("", "\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")
STANCES = ("supported", "unsupported")  # the audit trail's actions of a support
RESTATED_WITHIN = timedelta(hours=1)  # a stance changed again within it: one audit entry
SUPPORT_KEYS = frozenset({THUMBS_UP + tone for tone in SKIN_TONES} | {"+1", ":+1:", ":thumbsup:"})


def is_support(key: str) -> bool:
    """👍, 👍🏻…👍🏿 (with or without the emoji variation selector), ``+1``."""
    return key.replace("\ufe0f", "").strip() in SUPPORT_KEYS


async def record_supports(repos: Repositories, events: RoomEvents, club: Club,
                          t: Translator) -> list[Effect]:
    """A 👍 on the confirmation of a suggestion still open, in the suggestion's room, counts as
    a support (one per person; the author's own does not count); removing the reaction (a
    redaction of it in that room, by its author or someone allowed to redact there) removes
    the support."""
    for reaction in events.reactions:
        if not is_support(reaction.key):
            continue
        txn = await repos.outbox.txn_of(reaction.target)
        suggestion = await repos.agenda.suggestion_confirmed_by(txn) if txn else None
        if (suggestion is None or suggestion.status not in (PROPOSED, ACCEPTED)
                or suggestion.room_id != reaction.room_id or suggestion.author == reaction.sender):
            continue
        meeting = await repos.meetings.get(suggestion.meeting_id)
        if meeting is None or meeting.status in (CANCELLED, HELD) or meeting.starts_at <= reaction.at:
            continue
        if await repos.agenda.add_support(suggestion.id, reaction.sender, reaction.at,
                                          reaction.event_id):
            await took_part(repos, reaction.sender, reaction.at, club)
            await _audit(repos, reaction.sender, meeting.id, "supported", reaction.at,
                         suggestion.id, reaction.event_id)
    for redaction in events.redactions:
        support = await repos.agenda.support_by_reaction(redaction.redacts)
        if support is None:
            continue
        suggestion = await repos.agenda.suggestion(support.suggestion_id)
        if suggestion is None or not redaction.takes_back(suggestion.room_id, support.user_id):
            continue
        await repos.agenda.remove_support(suggestion.id, support.user_id)
        await _audit(repos, redaction.sender, suggestion.meeting_id, "unsupported",
                     redaction.at or support.at, suggestion.id, redaction.redacts)
    return []


async def _audit(repos: Repositories, actor: str, meeting: int, action: str, at: datetime,
                 suggestion: int, reaction: str) -> None:
    """The audit entry of a 👍 given or taken back; the same person's entry on the same
    suggestion within ``RESTATED_WITHIN`` takes the new stance instead (a 👍 added and removed
    again and again writes one row, its latest state; the supports are counted apart)."""
    await repos.audit.restate(actor=actor, subject="agenda", subject_id=meeting, action=action,
                              at=at, of=STANCES, same="suggestion", since=at - RESTATED_WITHIN,
                              suggestion=suggestion, reaction=reaction)
