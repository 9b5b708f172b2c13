"""Reminders: people's and rooms' (``!rappel``) and the club's rhythm (before a rencontre,
minutes due, news from the groups), sent once each, on time, in Paris time."""

from commands.capability import Capability
from commands.meetings.reminders import REMINDERS_KIND
from commands.reminders.handlers import rappel
from commands.reminders.jobs import REMINDERS

CAPABILITY = Capability("reminders", commands=(rappel,), jobs=(REMINDERS,))

__all__ = ["CAPABILITY", "REMINDERS_KIND"]
