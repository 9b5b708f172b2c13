"""``!rencontre …`` and ``!programme``: the handlers, one module per sub-capability, imported in
the order ``!aide rencontre`` lists their subcommands (each module declares its own when
imported): reading, answers, coordination, editing, attendance (headcounts, guests), sign-in
sheets."""

# isort: off
from commands.meetings import reading, answers, coordination, editing, attendance, signin
# isort: on
from commands.meetings.common import rencontre
from commands.meetings.programme import programme

__all__ = ["answers", "attendance", "coordination", "editing", "programme", "reading",
           "rencontre", "signin"]
