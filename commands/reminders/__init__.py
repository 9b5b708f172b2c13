"""Reminders: people's and rooms' (``!rappel``) and the club's rhythm (before a rencontre,
minutes due, news from the groups), sent once each, on time, in Paris time."""

from commands.meetings.reminders import REMINDERS_KIND
from commands.reminders.handlers import register

__all__ = ["REMINDERS_KIND", "register"]
