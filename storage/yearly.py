"""The statements of the yearly figures (``!stats``, ``!bilan``), built once and then run with
each call's values (``b_year``, ``b_start``, ``b_end``, ``b_edge<n>``): building them cost
about as much as running them (see ``storage.statements``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, select

from storage.models import (
    AgendaSuggestion,
    GroupMember,
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    MeetingRsvp,
    Participant,
    ParticipantYear,
    ProjectGroup,
    Remontee,
)

YEAR: Any = bindparam("b_year")
START: Any = bindparam("b_start")
END: Any = bindparam("b_end")


def edge(number: int) -> str:
    """The name of the value of the ``number``-th edge of :func:`participation`."""
    return f"b_edge{number}"


@cache
def participation(edges: int) -> Any:
    """Everyone who took part until the end of ``b_year``, by profile: how many, how many
    took part in it, how many for the first time, how many before each of the ``edges``
    (``b_edge0``…). One pass over the participants' spans; the ledger is read only for people
    who took part after ``b_year`` too, to know whether they did in it."""
    person, ledger = Participant, ParticipantYear
    in_year = exists().where(ledger.user_id == person.user_id, ledger.year == YEAR)
    active = case((person.last_year == YEAR, 1),
                  (and_(person.last_year > YEAR, in_year), 1), else_=0)
    return (select(person.territory, person.category, func.count(), func.sum(active),
                   func.sum(case((person.first_year == YEAR, 1), else_=0)),
                   *(func.sum(case((person.first_seen < bindparam(edge(n)), 1), else_=0))
                     for n in range(edges)))
            .where(person.first_year <= YEAR)
            .group_by(person.territory, person.category))


@cache
def meetings_between(everyone: bool = True) -> Any:
    """The rencontres starting in [b_start, b_end), with their attendance (members named and,
    with ``everyone``, guests and headcounts) and positive RSVPs."""
    named = (select(func.count()).where(MeetingAttendance.meeting_id == Meeting.id)
             .scalar_subquery())
    guests = select(func.count()).where(MeetingGuest.meeting_id == Meeting.id).scalar_subquery()
    counted = (select(func.coalesce(func.sum(MeetingHeadcount.count), 0))
               .where(MeetingHeadcount.meeting_id == Meeting.id).scalar_subquery())
    attendance = named + guests + counted if everyone else named
    rsvps = (select(func.count()).where(MeetingRsvp.meeting_id == Meeting.id,
                                        MeetingRsvp.answer == "present").scalar_subquery())
    return (select(Meeting.id, Meeting.starts_at, Meeting.territory, Meeting.status,
                   Meeting.place, attendance.label("attendance"), rsvps.label("rsvps"))
            .where(Meeting.starts_at >= START, Meeting.starts_at < END)
            .order_by(Meeting.starts_at, Meeting.id))


@cache
def attendees_between() -> Any:
    """Who came to a rencontre (not cancelled) starting in [b_start, b_end)."""
    return (select(MeetingAttendance.user_id)
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(Meeting.starts_at >= START, Meeting.starts_at < END,
                   Meeting.status != "annulee"))


@cache
def groups_until() -> Any:
    """(id, name, status, territory, members) of the groups created before ``b_end``."""
    members = (select(func.count()).where(GroupMember.group_id == ProjectGroup.id)
               .scalar_subquery())
    return (select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.status,
                   ProjectGroup.territory, members).where(ProjectGroup.created_at < END)
            .order_by(ProjectGroup.id))


@cache
def statuses_between(model: type[AgendaSuggestion] | type[Remontee]) -> Any:
    """(status, count) of the suggestions or remontées created in [b_start, b_end)."""
    return (select(model.status, func.count())
            .where(model.created_at >= START, model.created_at < END)
            .group_by(model.status))
