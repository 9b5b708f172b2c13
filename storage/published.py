"""A fingerprint of what the public web server shows (events, their registrations, groups,
their members and needs, initiatives): it changes whenever one of them does, so the server
may answer from what it rendered before while it stays the same (``web.cache``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings import PLANNED
from storage.models import AuditEntry, Meeting, MeetingRsvp
from storage.models.groups import GroupMember, GroupNeed, Initiative, ProjectGroup


@cache
def _fingerprint() -> Select[Any]:
    """One statement of small aggregates, each over an index or a small table."""
    def one(*columns: Any) -> list[Any]:
        return [select(column).scalar_subquery() for column in columns]

    not_planned = select(func.count(Meeting.id)).where(Meeting.status != PLANNED)
    return select(not_planned.scalar_subquery(), *one(
        func.count(Meeting.id), func.max(Meeting.updated_at), func.max(Meeting.id),
        func.sum(Meeting.sequence), func.count(MeetingRsvp.user_id), func.max(MeetingRsvp.at),
        func.count(ProjectGroup.id), func.max(ProjectGroup.updated_at),
        func.count(GroupMember.user_id), func.max(GroupMember.joined_at),
        func.count(GroupNeed.id), func.count(GroupNeed.met_at),
        func.count(Initiative.id), func.max(Initiative.id), func.max(AuditEntry.id)))


class PublishedRepository:
    """What the public sees, as a whole."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def version(self) -> tuple[Any, ...]:
        """Changes when anything the web server shows changes (a row added, changed, removed;
        an answer, a member, a need met; an event's status or version; any audited change)."""
        return tuple((await self.session.execute(_fingerprint())).one())
