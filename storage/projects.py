"""Repositories of the project groups and the panorama of initiatives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import aware
from storage.models.groups import (
    GroupFunding,
    GroupMember,
    GroupNeed,
    GroupProgress,
    Initiative,
    ProjectGroup,
)
from storage.participants import record_participation
from storage.statements import table


@dataclass(frozen=True)
class GroupSummary:
    """A line of the groups' list."""

    id: int
    name: str
    slug: str
    theme: str
    territory: str
    status: str
    members: int


@dataclass(frozen=True)
class GroupPage:
    """A page of the groups' list, how many groups match in all, how many are archived."""

    rows: list[GroupSummary]
    total: int
    archived: int


def _like_all(column: Any, words: Sequence[str]) -> ColumnElement[bool]:
    """Every (already folded) word appears in ``column`` (no word: every row); ``%`` and ``_``
    taken literally."""
    def pattern(word: str) -> str:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"

    return and_(true(), *(column.like(pattern(word), escape="\\") for word in words))


@cache
def _listing(order: tuple[str, ...], by_status: bool, by_theme: bool,
             by_territory: bool) -> tuple[Any, Any]:
    """``GroupRepository.listing``'s statements for one set of filters, built once (building
    them cost more than running them): the page with its counts, and the counts alone. Values:
    ``b_status``, ``b_theme``, ``b_territory``, ``b_limit``, ``b_offset``."""
    groups, members_ = table(ProjectGroup).c, table(GroupMember).c
    conditions: list[ColumnElement[bool]] = [
        groups.status == bindparam("b_status") if by_status
        else groups.status.in_(order)]
    if by_theme:
        conditions.append(groups.theme == bindparam("b_theme"))
    if by_territory:
        conditions.append(groups.territory == bindparam("b_territory"))
    matching = select(func.count()).select_from(table(ProjectGroup)).where(*conditions)
    archived = (select(func.count()).select_from(table(ProjectGroup))
                .where(groups.status == "archive"))
    rank = case({key: index for index, key in enumerate(order)}, value=groups.status,
                else_=len(order))
    page = (select(groups.id, groups.name, groups.slug, groups.theme,
                   groups.territory, groups.status, rank.label("rank"))
            .where(*conditions).order_by(rank, groups.id)
            .limit(bindparam("b_limit", type_=Integer))
            .offset(bindparam("b_offset", type_=Integer)).subquery())
    # Members are counted for the page's groups only (the primary key's index covers it).
    members = (select(func.count()).select_from(table(GroupMember))
               .where(members_.group_id == page.c.id).scalar_subquery())
    query = (select(page.c.id, page.c.name, page.c.slug, page.c.theme, page.c.territory,
                    page.c.status, members, matching.scalar_subquery(),
                    archived.scalar_subquery()).order_by(page.c.rank, page.c.id))
    return query, select(matching.scalar_subquery(), archived.scalar_subquery())


class GroupRepository:
    """Project groups, their members, progress log and needs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- groups ---------------------------------------------------------------------------
    async def create(self, *, name: str, name_key: str, slug: str, description: str, theme: str,
                     territory: str, status: str, created_by: str, at: datetime) -> ProjectGroup:
        group = ProjectGroup(name=name, name_key=name_key, slug=slug, description=description,
                             theme=theme, territory=territory, status=status, funding="",
                             created_by=created_by, created_at=at, updated_at=at)
        self.session.add(group)
        await self.session.flush()
        return group

    async def get(self, group_id: int) -> ProjectGroup | None:
        return await self.session.get(ProjectGroup, group_id)

    async def by_slug(self, slug: str) -> ProjectGroup | None:
        return await self.session.scalar(select(ProjectGroup).where(ProjectGroup.slug == slug))

    async def by_name_key(self, name_key: str) -> ProjectGroup | None:
        return await self.session.scalar(
            select(ProjectGroup).where(ProjectGroup.name_key == name_key))

    async def named_exactly(self, name_keys: Sequence[str], slug: str) -> Sequence[ProjectGroup]:
        """The groups whose folded name is one of ``name_keys`` or whose slug is ``slug``."""
        query = select(ProjectGroup).where(or_(ProjectGroup.name_key.in_(name_keys),
                                               ProjectGroup.slug == slug)).order_by(ProjectGroup.id)
        return (await self.session.scalars(query)).all()

    async def by_room(self, room_id: str) -> ProjectGroup | None:
        return await self.session.scalar(
            select(ProjectGroup).where(ProjectGroup.room_id == room_id).limit(1))

    async def room_ids(self) -> set[str]:
        """The rooms of the groups (every group that has one)."""
        query = select(ProjectGroup.room_id).where(ProjectGroup.room_id.is_not(None))
        return {room for room in (await self.session.scalars(query)).all() if room}

    async def rooms_of(self, user_id: str) -> set[str]:
        """The rooms of the groups ``user_id`` is a member of (that have one)."""
        query = (select(ProjectGroup.room_id)
                 .join(GroupMember, GroupMember.group_id == ProjectGroup.id)
                 .where(GroupMember.user_id == user_id, ProjectGroup.room_id.is_not(None)))
        return {room for room in (await self.session.scalars(query)).all() if room}

    async def search(self, words: Sequence[str]) -> Sequence[ProjectGroup]:
        """Groups whose folded name or slug holds every word."""
        text = ProjectGroup.name_key + " " + ProjectGroup.slug
        query = select(ProjectGroup).where(_like_all(text, words)).order_by(ProjectGroup.id)
        return (await self.session.scalars(query.limit(50))).all()

    async def names(self) -> list[tuple[int, str]]:
        """Every group's id and name (for names that look alike)."""
        query = select(ProjectGroup.id, ProjectGroup.name).order_by(ProjectGroup.id)
        return [(group_id, name) for group_id, name in await self.session.execute(query)]

    async def slugs_like(self, base: str) -> set[str]:
        query = select(ProjectGroup.slug).where(ProjectGroup.slug.like(f"{base}%"))
        return set((await self.session.scalars(query)).all())

    async def listing(self, *, order: Sequence[str], theme: str | None = None,
                      territory: str | None = None, status: str | None = None,
                      limit: int = 30, offset: int = 0) -> GroupPage:
        """One page of the groups matching the filters (statuses in ``order``, in that order,
        then by number), each with its member count; how many match in all and how many are
        archived: one query (one more for a page past the end)."""
        values = {"b_status": status, "b_theme": theme, "b_territory": territory,
                  "b_limit": limit, "b_offset": offset}
        page, counts = _listing(tuple(order), bool(status), bool(theme), bool(territory))
        rows = (await self.session.execute(page, values)).all()
        if not rows:  # nothing on this page: the counts alone
            total, archived = (await self.session.execute(counts, values)).one()
            return GroupPage([], int(total), int(archived))
        return GroupPage([GroupSummary(id=row[0], name=row[1], slug=row[2], theme=row[3],
                                       territory=row[4], status=row[5], members=int(row[6]))
                          for row in rows], int(rows[0][7]), int(rows[0][8]))

    async def count_by_status(self, created_before: datetime | None = None,
                              left_out: str | None = None) -> dict[str, int]:
        """How many groups have each status (of those created before ``created_before``, and
        without the status ``left_out``, when given)."""
        query = select(ProjectGroup.status, func.count()).group_by(ProjectGroup.status)
        if created_before is not None:
            query = query.where(ProjectGroup.created_at < created_before)
        if left_out is not None:
            query = query.where(ProjectGroup.status != left_out)
        return {status: int(n) for status, n in (await self.session.execute(query)).all()}

    async def for_progress_call(self, statuses: Sequence[str],
                                territories: Sequence[str] | None
                                ) -> list[tuple[ProjectGroup, list[str], datetime | None]]:
        """Active groups (of some territories, or all), each with its referents and the date of
        its latest progress entry."""
        query = select(ProjectGroup).where(ProjectGroup.status.in_(statuses))
        if territories is not None:
            query = query.where(ProjectGroup.territory.in_(territories))
        groups = (await self.session.scalars(query.order_by(ProjectGroup.id))).all()
        ids = [g.id for g in groups]
        rows = (await self.session.execute(
            select(GroupProgress.group_id, func.max(GroupProgress.created_at))
            .where(GroupProgress.group_id.in_(ids)).group_by(GroupProgress.group_id))).all()
        latest = {group_id: aware(moment) for group_id, moment in rows}
        referents: dict[int, list[str]] = {}
        for member in (await self.session.scalars(
                select(GroupMember).where(GroupMember.group_id.in_(ids),
                                          GroupMember.referent.is_(True))
                .order_by(GroupMember.joined_at))).all():
            referents.setdefault(member.group_id, []).append(member.user_id)
        return [(g, referents.get(g.id, []), latest.get(g.id)) for g in groups]

    # --- members --------------------------------------------------------------------------
    async def members(self, group_id: int) -> Sequence[GroupMember]:
        """Referents first, then by date of arrival."""
        query = (select(GroupMember).where(GroupMember.group_id == group_id)
                 .order_by(GroupMember.referent.desc(), GroupMember.joined_at, GroupMember.user_id))
        return (await self.session.scalars(query)).all()

    async def membership(self, group_id: int, user_id: str) -> GroupMember | None:
        return await self.session.get(GroupMember, (group_id, user_id))

    async def add_member(self, group_id: int, user_id: str, at: datetime, *, tz: ZoneInfo,
                         referent: bool = False) -> GroupMember:
        """Adds a member: joining counts as taking part at ``at`` (its year in ``tz``, the
        club's time zone)."""
        member = GroupMember(group_id=group_id, user_id=user_id, joined_at=at, referent=referent)
        self.session.add(member)
        await self.session.flush()
        await record_participation(self.session, [user_id], at, tz)
        return member

    async def remove_member(self, group_id: int, user_id: str) -> None:
        await self.session.execute(delete(GroupMember).where(
            GroupMember.group_id == group_id, GroupMember.user_id == user_id))

    async def groups_of(self, user_id: str) -> Sequence[tuple[ProjectGroup, GroupMember]]:
        query = (select(ProjectGroup, GroupMember)
                 .join(GroupMember, GroupMember.group_id == ProjectGroup.id)
                 .where(GroupMember.user_id == user_id).order_by(ProjectGroup.id))
        return [(group, member) for group, member in (await self.session.execute(query)).all()]

    # --- progress and needs ---------------------------------------------------------------
    async def add_progress(self, group_id: int, author: str, text: str,
                           at: datetime) -> GroupProgress:
        entry = GroupProgress(group_id=group_id, author=author, text=text, created_at=at)
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def progress(self, group_id: int, limit: int = 3) -> Sequence[GroupProgress]:
        """The latest entries, newest first."""
        query = (select(GroupProgress).where(GroupProgress.group_id == group_id)
                 .order_by(GroupProgress.created_at.desc(), GroupProgress.id.desc()).limit(limit))
        return (await self.session.scalars(query)).all()

    async def progress_count(self, group_id: int) -> int:
        query = select(func.count()).where(GroupProgress.group_id == group_id)
        return int(await self.session.scalar(query) or 0)

    async def add_need(self, group_id: int, kind: str, text: str, created_by: str,
                       at: datetime) -> GroupNeed:
        need = GroupNeed(group_id=group_id, kind=kind, text=text, created_by=created_by,
                         created_at=at)
        self.session.add(need)
        await self.session.flush()
        return need

    async def open_needs(self, group_id: int) -> Sequence[GroupNeed]:
        query = (select(GroupNeed).where(GroupNeed.group_id == group_id, GroupNeed.met_at.is_(None))
                 .order_by(GroupNeed.id))
        return (await self.session.scalars(query)).all()

    async def open_needs_of(self, group_ids: Sequence[int]) -> dict[int, list[GroupNeed]]:
        """The open needs of each of ``group_ids`` (one statement)."""
        found: dict[int, list[GroupNeed]] = {group_id: [] for group_id in group_ids}
        if group_ids:
            query = (select(GroupNeed).where(GroupNeed.group_id.in_(group_ids),
                                             GroupNeed.met_at.is_(None)).order_by(GroupNeed.id))
            for need in (await self.session.scalars(query)).all():
                found[need.group_id].append(need)
        return found

    async def need(self, group_id: int, need_id: int) -> GroupNeed | None:
        need = await self.session.get(GroupNeed, need_id)
        return need if need is not None and need.group_id == group_id else None

    async def add_funding(self, group_id: int, funder: str, amount_cents: int, day: date,
                          created_by: str, at: datetime) -> GroupFunding:
        funding = GroupFunding(group_id=group_id, funder=funder, amount_cents=amount_cents,
                               obtained_on=day, created_by=created_by, created_at=at)
        self.session.add(funding)
        await self.session.flush()
        return funding

    async def remove_funding(self, group_id: int, funding_id: int) -> GroupFunding | None:
        """Deletes the group's funding line ``funding_id``; the line, or ``None`` if the group
        has no such line."""
        funding = await self.session.get(GroupFunding, funding_id)
        if funding is None or funding.group_id != group_id:
            return None
        await self.session.delete(funding)
        await self.session.flush()
        return funding

    async def funding(self, group_id: int) -> Sequence[GroupFunding]:
        """The money the group obtained, by day."""
        query = (select(GroupFunding).where(GroupFunding.group_id == group_id)
                 .order_by(GroupFunding.obtained_on, GroupFunding.id))
        return (await self.session.scalars(query)).all()


class InitiativeRepository:
    """The panorama of the territory's transition initiatives."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> Initiative:
        initiative = Initiative(**values)
        self.session.add(initiative)
        await self.session.flush()
        return initiative

    async def get(self, initiative_id: int) -> Initiative | None:
        return await self.session.get(Initiative, initiative_id)

    async def by_name_key(self, name_key: str) -> Initiative | None:
        return await self.session.scalar(select(Initiative).where(Initiative.name_key == name_key))

    async def names(self) -> list[tuple[int, str]]:
        """Every initiative's id and name (for names that look alike)."""
        query = select(Initiative.id, Initiative.name).order_by(Initiative.id)
        return [(item_id, name) for item_id, name in await self.session.execute(query)]

    async def search(self, words: Sequence[str], limit: int = 20,
                     offset: int = 0) -> Sequence[Initiative]:
        """Those whose search key holds every word, by name (``limit`` from ``offset``)."""
        query = (select(Initiative).where(_like_all(Initiative.search_key, words))
                 .order_by(Initiative.name_key).limit(limit).offset(offset))
        return (await self.session.scalars(query)).all()

    async def count_matching(self, words: Sequence[str]) -> int:
        query = select(func.count()).where(_like_all(Initiative.search_key, words))
        return int(await self.session.scalar(query) or 0)

    async def listing(self, theme: str | None = None, limit: int | None = None,
                      offset: int = 0) -> Sequence[Initiative]:
        """By theme, then by name (all of them, or ``limit`` from ``offset``)."""
        query = select(Initiative).order_by(Initiative.theme, Initiative.name_key)
        if theme:
            query = query.where(Initiative.theme == theme)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def count(self, theme: str | None = None) -> int:
        query = select(func.count()).select_from(Initiative)
        if theme:
            query = query.where(Initiative.theme == theme)
        return int(await self.session.scalar(query) or 0)

    async def remove(self, initiative: Initiative) -> None:
        await self.session.delete(initiative)
