"""The domain and the command handlers; no nio, no SQLAlchemy here.

``CAPABILITIES`` lists what the bot can do, in the order of ``!aide``'s sections; each
capability declares its commands and everything else it reacts to next to its handlers
(``commands.capability``)."""

from __future__ import annotations

from commands import actions, agenda, initiatives, meetings, meta, polls, projects, reminders, reports
from commands.capability import Capability, build
from commands.registry import Registry

CAPABILITIES: tuple[Capability, ...] = (
    meta.CAPABILITY,
    projects.CAPABILITY,
    initiatives.CAPABILITY,
    polls.CAPABILITY,
    meetings.CAPABILITY,
    actions.CAPABILITY,
    reminders.CAPABILITY,
    agenda.CAPABILITY,
    reports.CAPABILITY,
)


def build_registry() -> Registry:
    """Every command of the bot, and everything else its capabilities react to."""
    return build(CAPABILITIES)
