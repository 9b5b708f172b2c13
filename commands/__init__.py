"""The domain and the command handlers; no nio, no SQLAlchemy here.

``CAPABILITIES`` lists what the bot can do, in the order of ``!aide``'s sections; each
capability declares its commands and everything else it reacts to next to its handlers
(``commands.capability``). A capability not converted yet still declares its commands on the
registry (``install``)."""

from __future__ import annotations

from commands import agenda, initiatives, meetings, meta, polls, projects, reminders, reports
from commands.capability import Capability, build
from commands.polls.service import record_native
from commands.registry import Registry

CAPABILITIES: tuple[Capability, ...] = (
    meta.CAPABILITY,
    projects.CAPABILITY,
    initiatives.CAPABILITY,
    Capability("polls", install=polls.register, poll_answers=(record_native,)),
    # until its handlers announce ``rencontre.changed`` (``Context.announce``), !rencontre is
    # given the agenda's listener directly
    Capability("meetings",
               install=lambda registry: meetings.register(registry, follow=agenda.follow_meeting)),
    Capability("reminders", install=reminders.register),
    Capability("agenda", install=agenda.register, consumers=(agenda.reactions.record_supports,),
               listens={"rencontre.changed": agenda.follow_meeting}),
    reports.CAPABILITY,
)


def build_registry() -> Registry:
    """Every command of the bot, and everything else its capabilities react to."""
    return build(CAPABILITIES)
