"""Reminders: people's and rooms' (``!rappel``) and the club's rhythm (before a rencontre,
minutes due, news from the groups), sent once each, on time, in Paris time."""

from commands.capability import Capability
from commands.reminders.handlers import REMINDERS_KIND, rappel

CAPABILITY = Capability("reminders", commands=(rappel,))

__all__ = ["CAPABILITY", "REMINDERS_KIND"]
