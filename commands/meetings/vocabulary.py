"""The closed lists of the rencontres: territories, statuses, answers (typed as people type)."""

from __future__ import annotations

# The territories of an event, here with the rencontres' other lists (the config's report
# settings read them from commands.vocabulary).
from commands.vocabulary import MEETING_TERRITORIES as MEETING_TERRITORIES
from commands.vocabulary import Vocabulary

MEETING_STATUSES = Vocabulary("meeting_status", (
    ("prevue", ("prevu", "planned", "scheduled")),
    ("tenue", ("tenu", "held", "done")),
    ("annulee", ("annule", "cancelled", "canceled")),
))

PLANNED, HELD, CANCELLED = "prevue", "tenue", "annulee"

# A person's answer: stored key, the reaction the bot puts on the command.
ANSWERS = {"present": "✅", "absent": "❌", "peutetre": "🤔"}
# For an event with places: ``present`` holds one, ``attente`` waits for one.
PRESENT, WAITING = "present", "attente"
