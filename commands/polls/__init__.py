"""Date polls (``!sondage``, ``!vote``): find a date together, with native Matrix polls and a
text command for clients without them."""

from commands.polls.handlers import POLL_KIND, register

__all__ = ["POLL_KIND", "register"]
