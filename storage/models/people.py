"""People: mention preferences, participants and their profiles, the participation ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Person(Base):
    """What a person chose about the bot (mentions in reminders…)."""

    __tablename__ = "people"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    mentions: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class Participant(Base):
    """Someone who took part (used the bot, joined a group, voted, answered or came to a
    rencontre): the span of their participation, kept up to date with the ledger below so that
    the yearly counts read one row per person; and the optional profile, filled by the person
    (``!profil``), with the date of their consent."""

    __tablename__ = "participants"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    first_seen: Mapped[datetime]  # earliest activity
    last_seen: Mapped[datetime]  # latest (retention)
    # Their first and last calendar years in the ledger (empty: a profile, no activity yet).
    first_year: Mapped[int | None] = mapped_column(Integer)
    last_year: Mapped[int | None] = mapped_column(Integer)
    territory: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_participants_last_seen", "last_seen"),
                      # the yearly counts by profile read this index, not the rows
                      Index("ix_participants_profile_span", "territory", "category",
                            "first_year", "last_year"))


class ParticipantYear(Base):
    """The participation ledger: a calendar year (in the club's time zone) in which a person
    took part (used the bot, joined a group, voted, answered or attended a rencontre), with
    their earliest activity of that year. Written with each activity, never withdrawn."""

    __tablename__ = "participant_years"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_at: Mapped[datetime]
