"""Rencontres (club meetings): planning, answers, attendance, minutes, calendar files.

``create_meeting`` is also what a date poll calls when it settles on a date.
"""

from commands.meetings.calendar import meeting_ics
from commands.meetings.handlers import register
from commands.meetings.service import create_meeting
from commands.meetings.vocabulary import MEETING_STATUSES, MEETING_TERRITORIES

__all__ = ["MEETING_STATUSES", "MEETING_TERRITORIES", "create_meeting", "meeting_ics", "register"]
