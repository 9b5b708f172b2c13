"""The actions' repository: what was decided at events, who does it, by when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Action, Meeting, Reminder

OPEN = "ouverte"


def _open(group_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [Action.status == OPEN]
    if group_id is not None:
        conditions.append(Action.group_id == group_id)
    return conditions


class ActionRepository:
    """Actions by number; open ones by their event's date, then their own number."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> Action:
        """A new open action (values: its columns but id and status)."""
        action = Action(status=OPEN, **values)
        self.session.add(action)
        await self.session.flush()
        return action

    async def get(self, action_id: int) -> Action | None:
        return await self.session.get(Action, action_id)

    async def open(self, *, group_id: int | None = None, offset: int = 0,
                   limit: int | None = None) -> Sequence[Action]:
        """The open actions (of the group ``group_id`` only, when given), oldest event first."""
        query = (select(Action).where(*_open(group_id))
                 .order_by(Action.meeting_id, Action.id).offset(offset).limit(limit))
        return (await self.session.scalars(query)).all()

    async def of_meeting(self, meeting_id: int) -> Sequence[Action]:
        """Every action decided at the event ``meeting_id`` (open, done or cancelled), in the
        order they were recorded."""
        query = select(Action).where(Action.meeting_id == meeting_id).order_by(Action.id)
        return (await self.session.scalars(query)).all()

    async def count_open(self, group_id: int | None = None) -> int:
        query = select(func.count()).select_from(Action).where(*_open(group_id))
        return int(await self.session.scalar(query) or 0)

    async def count_open_of_meeting(self, meeting_id: int) -> int:
        query = (select(func.count()).select_from(Action)
                 .where(Action.status == OPEN, Action.meeting_id == meeting_id))
        return int(await self.session.scalar(query) or 0)

    async def open_before(self, start: datetime, meeting_id: int,
                          group_id: int | None = None) -> Sequence[Action]:
        """The open actions decided at events that started before ``start`` (not the event
        ``meeting_id`` itself); for a group's event (``group_id``), only those in the group's
        charge or decided at the group's events."""
        query = (select(Action).join(Meeting, Meeting.id == Action.meeting_id)
                 .where(Action.status == OPEN, Meeting.starts_at < start,
                        Action.meeting_id != meeting_id))
        if group_id is not None:
            query = query.where((Action.group_id == group_id) | (Meeting.group_id == group_id))
        return (await self.session.scalars(query.order_by(Meeting.starts_at, Action.id))).all()

    async def close(self, action: Action, status: str, by: str, at: datetime) -> None:
        """Done or cancelled; its pending reminders are cancelled too."""
        action.status, action.closed_by, action.closed_at = status, by, at
        await self.cancel_reminders(action.id)

    async def cancel_reminders(self, action_id: int) -> None:
        await self.session.execute(
            update(Reminder).where(Reminder.action_id == action_id, Reminder.status == "pending")
            .values(status="cancelled"))
