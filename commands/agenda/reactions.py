"""Supports of a suggestion given with a 👍 on its confirmation message, and taken back by
removing the reaction (its redaction), recorded in the sync batch's transaction
(``commands.agenda.by_reaction``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.agenda.by_reaction import SupportByReaction, not_own
from commands.agenda.service import ACCEPTED, CANCELLED, HELD, PROPOSED
from commands.events import Reaction, RoomEvents

if TYPE_CHECKING:
    from commands.context import Club
    from commands.effects import Effect
    from commands.i18n import Translator
    from storage.models import AgendaSuggestion
    from storage.repositories import Repositories


async def still_open(repos: Repositories, suggestion: AgendaSuggestion,
                     reaction: Reaction) -> bool:
    """A suggestion waiting for a decision or accepted; not a refused or withdrawn one."""
    return suggestion.status in (PROPOSED, ACCEPTED)


async def before_its_rencontre(repos: Repositories, suggestion: AgendaSuggestion,
                               reaction: Reaction) -> bool:
    """Its rencontre is neither cancelled nor held, and had not started at the 👍."""
    meeting = await repos.meetings.get(suggestion.meeting_id)
    return (meeting is not None and meeting.status not in (CANCELLED, HELD)
            and meeting.starts_at > reaction.at)


SUGGESTIONS = SupportByReaction(
    store=lambda repos: repos.agenda,
    confirmed_by=lambda repos, txn: repos.agenda.suggestion_confirmed_by(txn),
    supported=lambda repos, support: repos.agenda.suggestion(support.suggestion_id),
    checks=(still_open, not_own, before_its_rencontre), subject="agenda", named="suggestion",
    subject_id=lambda suggestion: suggestion.meeting_id)


async def record_supports(repos: Repositories, events: RoomEvents, club: Club,
                          t: Translator) -> list[Effect]:
    """A 👍 on the confirmation of a suggestion still open, in the suggestion's room, counts as
    a support (one per person; the author's own does not count); removing the reaction (a
    redaction of it in that room, by its author or someone allowed to redact there) removes
    the support."""
    await SUGGESTIONS.record(repos, events, club)
    return []
