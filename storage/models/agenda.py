"""A rencontre's agenda (suggestions, supports, items, its published state) and the remontées."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class AgendaSuggestion(Base):
    """A point someone suggests for a rencontre's agenda, and what became of it."""

    __tablename__ = "agenda_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    author: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    # proposee (waiting), acceptee, refusee, retiree
    status: Mapped[str] = mapped_column(String(16), default="proposee")
    reason: Mapped[str] = mapped_column(Text, default="")
    room_id: Mapped[str]
    confirmation_txn: Mapped[str]  # the bot's reply: 👍 there counts
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None]

    __table_args__ = (Index("ix_agenda_suggestions_meeting", "meeting_id", "status"),
                      Index("ix_agenda_suggestions_confirmation", "confirmation_txn"))


class AgendaSupport(Base):
    """Someone supports a suggestion (by command or by a 👍 reaction)."""

    __tablename__ = "agenda_supports"
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_suggestions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    reaction_event_id: Mapped[str | None]

    __table_args__ = (Index("ix_agenda_supports_reaction", "reaction_event_id"),)


class AgendaItem(Base):
    """A point of a rencontre's agenda, in order."""

    __tablename__ = "agenda_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(Integer, default=15)
    method: Mapped[str] = mapped_column(String(200), default="")  # méthode d'animation
    presenter: Mapped[str | None]
    suggestion_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)  # the tour of project groups
    created_by: Mapped[str]
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_agenda_items_meeting", "meeting_id", "position"),)


class AgendaState(Base):
    """Where a rencontre's agenda stands: draft posted, published (what, where, which version)."""

    __tablename__ = "agenda_states"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    draft_posted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the items as published
    rooms: Mapped[str] = mapped_column(Text, default="[]")  # JSON: rooms it is pinned in


class Remontee(Base):
    """An expectation of the citizens carried to the elected council, and its answer."""

    __tablename__ = "remontees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author: Mapped[str]
    room_id: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="nouvelle")  # transmise, repondue
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None]
    confirmation_txn: Mapped[str | None]  # the bot's reply: a 👍 there supports it

    __table_args__ = (Index("ix_remontees_confirmation", "confirmation_txn"),)
