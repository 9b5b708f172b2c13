"""The domain and the command handlers; no nio, no SQLAlchemy here."""

from __future__ import annotations

from commands import agenda, initiatives, meetings, meta, polls, projects, reminders, reports
from commands.registry import Registry


def build_registry() -> Registry:
    """Every command of the bot, declared once."""
    registry = Registry()
    meta.register(registry)
    projects.register(registry)
    initiatives.register(registry)
    polls.register(registry)
    meetings.register(registry, follow=agenda.follow_meeting)
    reminders.register(registry)
    agenda.register(registry)
    reports.register(registry)
    return registry
