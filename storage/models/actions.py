"""Decisions and actions taken at an event: who (a person or a group) does what, by when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Action(Base):
    """An action decided at an event, in the charge of one person (``assignee``) or one
    groupe-projet (``group_id``), with an optional due date; open until marked done or
    cancelled."""

    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    assignee: Mapped[str | None]  # a member's Matrix id
    group_id: Mapped[int | None] = mapped_column(Integer)  # or a groupe-projet
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="ouverte")  # ouverte, faite, annulee
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    closed_by: Mapped[str | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_actions_status", "status", "meeting_id"),
                      Index("ix_actions_assignee", "assignee"))
