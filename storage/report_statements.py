"""The statements of the report's reads (``storage.report``), built once and then run with each
call's values (``b_start``, ``b_end``: the period's bounds; ``b_first``, ``b_last``: its first
and last years, or days for the funding): building them cost as much as running them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, select

from storage.meetings import CANCELLED
from storage.models import (
    Action,
    AgendaSuggestion,
    AuditEntry,
    CharterAdoption,
    GroupFunding,
    GroupMember,
    GroupNeed,
    GroupProgress,
    Initiative,
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    MeetingRsvp,
    Participant,
    ParticipantYear,
    Poll,
    PollVote,
    ProjectGroup,
    Remontee,
)

NOT_SAID = "non-renseigne"
START: Any = bindparam("b_start")
END: Any = bindparam("b_end")
FIRST: Any = bindparam("b_first")
LAST: Any = bindparam("b_last")


def _in(column: Any) -> Any:
    return and_(column >= START, column < END)


@cache
def events() -> Any:
    """Every event starting in the period, with the members named, the guests, the
    headcounts and the positive answers."""
    def count(model: Any) -> Any:
        return select(func.count()).where(model.meeting_id == Meeting.id).scalar_subquery()
    counted = (select(func.coalesce(func.sum(MeetingHeadcount.count), 0))
               .where(MeetingHeadcount.meeting_id == Meeting.id).scalar_subquery())
    rsvps = (select(func.count()).where(MeetingRsvp.meeting_id == Meeting.id,
                                        MeetingRsvp.answer == "present").scalar_subquery())
    return (select(Meeting.id, Meeting.kind, Meeting.title, Meeting.starts_at, Meeting.territory,
                   Meeting.status, Meeting.group_id, count(MeetingAttendance),
                   count(MeetingGuest), counted, rsvps)
            .where(_in(Meeting.starts_at)).order_by(Meeting.starts_at, Meeting.id))


@cache
def participants(whole_years: bool) -> Any:
    """(territory, category, people, newcomers) of the people who took part in the period: the
    first participation of one of their years (the ledger keeps each year's first one) falls
    in it. For whole years, read from the profile and span index alone:
    a person whose last year is in the period took part in it (its first participation is in
    it), the ledger is read only for those who took part after it too. Grouped by the profile
    as it is stored (``NULL`` when not said), the order of ``ix_participants_profile_span``: one
    pass over that index, no sort."""
    person = Participant
    in_ledger = exists().where(ParticipantYear.user_id == person.user_id,
                               ParticipantYear.year.between(FIRST, LAST),
                               _in(ParticipantYear.first_at))
    if whole_years:
        took_part, fresh = or_(person.last_year <= LAST, in_ledger), person.first_year >= FIRST
    else:
        took_part, fresh = or_(_in(person.first_seen), in_ledger), _in(person.first_seen)
    return (select(person.territory, person.category, func.count(),
                   func.sum(case((fresh, 1), else_=0)))
            .where(person.first_year <= LAST, person.last_year >= FIRST, took_part)
            .group_by(person.territory, person.category))


@cache
def participants_until() -> Any:
    return select(func.count()).where(Participant.first_year.is_not(None),
                                      Participant.first_seen < END)


@cache
def attendees() -> Any:
    return (select(func.count(func.distinct(MeetingAttendance.user_id)))
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(_in(Meeting.starts_at), Meeting.status != CANCELLED))


@cache
def groups() -> Any:
    """The groups created before the end, with their members today."""
    members = (select(func.count()).where(GroupMember.group_id == ProjectGroup.id)
               .scalar_subquery())
    return (select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.slug, ProjectGroup.status,
                   ProjectGroup.territory, ProjectGroup.created_at, members, ProjectGroup.funding)
            .where(ProjectGroup.created_at < END).order_by(ProjectGroup.id))


@cache
def group_statuses() -> Any:
    """(status, count) of the groups created before the end: what the indicators count of
    them, without a row per group."""
    return (select(ProjectGroup.status, func.count()).where(ProjectGroup.created_at < END)
            .group_by(ProjectGroup.status))


@cache
def status_changes() -> Any:
    return (select(AuditEntry.subject_id, AuditEntry.at, AuditEntry.details)
            .where(AuditEntry.subject == "group", AuditEntry.action == "status",
                   _in(AuditEntry.at)).order_by(AuditEntry.at, AuditEntry.id))


@cache
def progress() -> Any:
    return (select(GroupProgress.group_id, GroupProgress.created_at, GroupProgress.text)
            .where(_in(GroupProgress.created_at))
            .order_by(GroupProgress.created_at, GroupProgress.id))


@cache
def needs_met() -> Any:
    return (select(GroupNeed.group_id, GroupNeed.met_at, GroupNeed.text)
            .where(_in(GroupNeed.met_at)).order_by(GroupNeed.met_at, GroupNeed.id))


@cache
def funding() -> Any:
    return (select(GroupFunding.group_id, GroupFunding.funder, GroupFunding.amount_cents,
                   GroupFunding.obtained_on)
            .where(GroupFunding.obtained_on >= FIRST, GroupFunding.obtained_on <= LAST)
            .order_by(GroupFunding.obtained_on, GroupFunding.id))


@cache
def actions() -> Any:
    return (select(Action.id, Action.meeting_id, Action.group_id, Action.text, Action.status,
                   Action.due_at, Action.closed_at)
            .join(Meeting, Meeting.id == Action.meeting_id)
            .where(_in(Meeting.starts_at)).order_by(Meeting.starts_at, Action.id))


@cache
def remontees() -> Any:
    return (select(Remontee.id, Remontee.text, Remontee.status, Remontee.created_at,
                   Remontee.sent_at, Remontee.answer, Remontee.answered_at)
            .where(_in(Remontee.created_at) | _in(Remontee.sent_at) | _in(Remontee.answered_at))
            .order_by(Remontee.id))


@cache
def suggestions() -> Any:
    """(status, count) of the agenda suggestions made in the period."""
    return (select(AgendaSuggestion.status, func.count())
            .where(_in(AgendaSuggestion.created_at)).group_by(AgendaSuggestion.status))


@cache
def decisions() -> Any:
    """The proposals opened in the period, the outcomes written in it, and the people who took
    a position in it (not withdrawn since) on a proposal: one row."""
    proposal = Poll.kind == "proposal"
    opened = select(func.count()).where(proposal, _in(Poll.created_at)).scalar_subquery()
    decided = select(func.count()).where(proposal, _in(Poll.outcome_at)).scalar_subquery()
    people = (select(func.count(PollVote.user_id.distinct()))
              .join(Poll, Poll.id == PollVote.poll_id)
              .where(proposal, PollVote.answer.is_not(None), _in(PollVote.voted_at))
              .scalar_subquery())
    return select(opened, decided, people)


@cache
def charter_adoptions() -> Any:
    """How many people adopted the cadre de confiance in the period (each person's latest
    adoption: the one the table keeps)."""
    return select(func.count()).where(_in(CharterAdoption.at))


@cache
def initiatives() -> Any:
    return (select(Initiative.name, Initiative.commune)
            .where(_in(Initiative.created_at)).order_by(Initiative.id))
