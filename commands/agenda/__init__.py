"""The agenda of each rencontre (``!odj`` / ``!agenda``: suggestions from everyone, published by
the coordinators) and the remontées aux élus (``!remontee``).

``!odj``'s subcommands are declared by the modules below, in the order ``!aide odj`` lists
them: participants, coordination, publication. The capability also takes 👍 reactions as
supports (``reactions.record_supports``), 👍 on a remontée's confirmation as co-signatures
(``cosign.record_supports``), both by ``by_reaction.SupportByReaction``, and makes the pinned
agenda follow a rencontre moved or cancelled (it listens to ``MEETING_CHANGED``).

For other capabilities (the rencontre reminders): ``agenda_summary`` (the published agenda as
short Markdown, ``None`` if unpublished) and ``suggestions_deadline`` (when suggestions close).
"""

# isort: off
from commands.agenda import participants, coordination, publication
# isort: on
from commands.agenda import cosign, reactions, remontees
from commands.agenda.common import odj
from commands.agenda.service import agenda_summary, follow_meeting, suggestions_deadline
from commands.capability import Capability
from commands.meetings.service import MEETING_CHANGED

CAPABILITY = Capability("agenda", commands=(odj, remontees.remontee),
                        consumers=(reactions.record_supports, cosign.record_supports),
                        listens={MEETING_CHANGED: follow_meeting},
                        exports=(remontees.COUNCIL,))

__all__ = ["CAPABILITY", "agenda_summary", "coordination", "cosign", "participants", "publication",
           "reactions", "suggestions_deadline"]
