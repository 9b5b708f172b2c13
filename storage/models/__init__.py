"""Typed SQLAlchemy models, by capability; every timestamp is stored and returned as aware UTC
(``UTCDateTime``). Importing this package maps every table on ``Base.metadata``."""

from storage.models.actions import Action
from storage.models.agenda import AgendaItem, AgendaState, AgendaSuggestion, AgendaSupport, Remontee
from storage.models.base import Base, UTCDateTime
from storage.models.decisions import (
    CharterAdoption,
    CharterPost,
    CharterProposal,
    CharterVersion,
    PollComment,
    RemonteeSupport,
)
from storage.models.groups import (
    AuditEntry,
    AuditPerson,
    CapUse,
    GroupFunding,
    GroupMember,
    GroupNeed,
    GroupProgress,
    Initiative,
    ProjectGroup,
)
from storage.models.meetings import (
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    MeetingRsvp,
    Poll,
    PollSlot,
    PollVote,
)
from storage.models.people import Participant, ParticipantYear, Person
from storage.models.runtime import (
    BotState,
    InboxEvent,
    JoinedRoom,
    OutboxMessage,
    OutboxPerson,
    Reminder,
    ScheduledMessage,
    Welcome,
)

__all__ = [
    "Action",
    "AgendaItem",
    "AgendaState",
    "AgendaSuggestion",
    "AgendaSupport",
    "AuditEntry",
    "AuditPerson",
    "Base",
    "BotState",
    "CapUse",
    "CharterAdoption",
    "CharterPost",
    "CharterProposal",
    "CharterVersion",
    "GroupFunding",
    "GroupMember",
    "GroupNeed",
    "GroupProgress",
    "InboxEvent",
    "Initiative",
    "JoinedRoom",
    "Meeting",
    "MeetingAttendance",
    "MeetingGuest",
    "MeetingHeadcount",
    "MeetingRsvp",
    "OutboxMessage",
    "OutboxPerson",
    "Participant",
    "ParticipantYear",
    "Person",
    "Poll",
    "PollComment",
    "PollSlot",
    "PollVote",
    "ProjectGroup",
    "Reminder",
    "Remontee",
    "RemonteeSupport",
    "ScheduledMessage",
    "UTCDateTime",
    "Welcome",
]
