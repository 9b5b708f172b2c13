"""Rencontres (club meetings): planning, answers, attendance (members named, guests, headcounts,
sign-in sheets), minutes, calendar files.

``create_meeting`` is also what a date poll calls when it settles on a date; ``MEETING_CHANGED``
is announced to the other capabilities when a rencontre moves or is cancelled.
"""

from commands.capability import Capability
from commands.meetings.calendar import meeting_ics
from commands.meetings.handlers import programme, rencontre, signin
from commands.meetings.registration import PLACE_GIVEN, direct_room_opened
from commands.meetings.service import MEETING_CHANGED, create_meeting
from commands.meetings.subscription import calendrier
from commands.meetings.vocabulary import MEETING_STATUSES, MEETING_TERRITORIES

CAPABILITY = Capability("meetings", commands=(rencontre, programme, calendrier),
                        outcomes={PLACE_GIVEN: direct_room_opened,
                                  signin.OUTCOME: signin.sheet_read})

__all__ = ["CAPABILITY", "MEETING_CHANGED", "MEETING_STATUSES", "MEETING_TERRITORIES",
           "create_meeting", "meeting_ics"]
