"""The closed lists of the rencontres: territories, statuses, answers (typed as people type)."""

from __future__ import annotations

from commands.vocabulary import Vocabulary

MEETING_TERRITORIES = Vocabulary("meeting_territory", (
    ("nord", ("north",)),
    ("sud", ("south",)),
    ("commun", ("commune", "tous", "tout", "toutes", "tout-le-territoire", "territoire", "ensemble",
                "nord-et-sud", "nord-sud", "both", "joint", "all", "together", "whole-territory",
                "north-and-south")),
))

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
