"""The agenda of each rencontre (``!odj`` / ``!agenda``: suggestions from everyone, published by
the coordinators) and the remontées aux élus (``!remontee``).

For other capabilities (the rencontre reminders): ``agenda_summary`` (the published agenda as
short Markdown, ``None`` if unpublished) and ``suggestions_deadline`` (when suggestions close);
for ``!rencontre``: ``follow_meeting`` (the pinned agenda follows a moved or cancelled rencontre).
The consumer of 👍 reactions: ``reactions.record_supports`` (listed in ``commands.CAPABILITIES``).
"""

from commands.agenda import reactions
from commands.agenda.handlers import register as register_agenda
from commands.agenda.remontees import register as register_remontees
from commands.agenda.service import agenda_summary, follow_meeting, suggestions_deadline
from commands.registry import Registry


def register(registry: Registry) -> None:
    """Declares ``!odj`` and ``!remontee``."""
    register_agenda(registry)
    register_remontees(registry)


__all__ = ["agenda_summary", "follow_meeting", "reactions", "register", "suggestions_deadline"]
