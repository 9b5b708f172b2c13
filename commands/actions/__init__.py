"""Actions decided at events: recorded with ``!rencontre action``, listed by ``!actions`` and in
``!rencontre info`` (``MEETING_CARD``), closed with ``!action fait|annuler``, reminded before
their due date (``reminding``), followed up at the top of the next event's draft agenda
(``follow_up``)."""

from commands.actions.follow_up import follow_up
from commands.actions.handlers import action, actions, card_section
from commands.actions.reminding import ACTION_KIND, ACTION_REMINDED, direct_room_opened, remind
from commands.capability import Capability
from commands.meetings.service import MEETING_CARD

CAPABILITY = Capability("actions", commands=(actions, action),
                        outcomes={ACTION_REMINDED: direct_room_opened},
                        listens={MEETING_CARD: card_section})

__all__ = ["ACTION_KIND", "CAPABILITY", "follow_up", "remind"]
