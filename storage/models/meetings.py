"""Rencontres (answers, attendance) and polls (slots, votes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column

from storage.models.base import Base
from storage.models.groups import ProjectGroup


class Meeting(Base):
    """An event of the club's programme (a rencontre, a webinaire, a formation…): its kind,
    when, where (a place and/or an online link), for whom (a territory or a group), how many
    places, who organises it, and what became of it."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), default="rencontre",
                                      server_default="rencontre")  # a key of [events.kinds]
    title: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    theme: Mapped[str | None] = mapped_column(String(32))  # a key of commands.vocabulary.THEMES
    description: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    link: Mapped[str] = mapped_column(String(500), default="",
                                      server_default=text("''"))  # https visio
    group_id: Mapped[int | None] = mapped_column(Integer)  # audience: a groupe-projet
    # that group's current name and slug, read with the event (none for a territory's); kept
    # over a flush (an event never changes group): no hidden query when a changed one is read
    group_name: Mapped[str | None] = column_property(
        select(ProjectGroup.name).where(ProjectGroup.id == group_id)
        .correlate_except(ProjectGroup).scalar_subquery(), expire_on_flush=False)
    group_slug: Mapped[str | None] = column_property(
        select(ProjectGroup.slug).where(ProjectGroup.id == group_id)
        .correlate_except(ProjectGroup).scalar_subquery(), expire_on_flush=False)
    capacity: Mapped[int | None] = mapped_column(Integer)  # places; none: no registration
    organiser: Mapped[str | None]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(500), default="")
    territory: Mapped[str] = mapped_column(String(16))  # nord, sud, commun
    status: Mapped[str] = mapped_column(String(16), default="prevue")  # prevue, tenue, annulee
    poll_id: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # ICS SEQUENCE, bumped on changes
    minutes: Mapped[str] = mapped_column(Text, default="")  # compte-rendu: text or a link
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    rooms: Mapped[str] = mapped_column(Text, default="[]")  # JSON: rooms it was announced in
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_meetings_start", "starts_at"),)


class MeetingRsvp(Base):
    """Who says they will come (present, absent, peutetre); for an event with places,
    ``present`` holds a place and ``attente`` waits for one, in the order of ``at``."""

    __tablename__ = "meeting_rsvps"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    answer: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class MeetingAttendance(Base):
    """Who actually came."""

    __tablename__ = "meeting_attendance"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime]


class MeetingHeadcount(Base):
    """How many people without Matrix came to an event, by category and territory (keys of
    ``[events.categories]`` and ``commands.categories.TERRITORIES``): no names."""

    __tablename__ = "meeting_headcounts"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    territory: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # of ``count``, the people added from forgotten guests (kept when the headcount is typed again)
    from_guests: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    recorded_at: Mapped[datetime]


class MeetingGuest(Base):
    """Someone without Matrix who came, by name only (a sign-in sheet, the organiser): personal
    data, turned into a headcount once the event is older than the retention delay."""

    __tablename__ = "meeting_guests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(32))
    territory: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # commande (typed), feuille (a sheet)
    recorded_at: Mapped[datetime]

    __table_args__ = (Index("ix_meeting_guests_meeting", "meeting_id"),)


class Poll(Base):
    """A poll: a question, its options (``poll_slots``), votes, a deadline. ``kind``: ``dates``
    (candidate dates, answered yes / maybe / no each), ``choice`` (options of any kind, one or,
    with ``multiple``, several chosen; ``allow_other``: an « autre » option answered with a
    text), ``proposal`` (one text, answered agree / abstain / disagree / block with a reason,
    its ``outcome`` written at the close). ``anonymous``: voters' names are never shown."""

    __tablename__ = "polls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(String(16))  # nord, sud, tous
    room_id: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    closes_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    results_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str]
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16), default="dates", server_default="dates")
    multiple: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    allow_other: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outcome: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None]
    outcome_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_polls_status", "status", "closes_at"),
                      Index("ix_polls_outcome", "kind", "outcome_at"))


class PollSlot(Base):
    """An option of a poll, numbered from 1: a candidate date (``starts_at``, ``ends_at``), or,
    for the other kinds, a ``label`` (a proposal's one slot has none; ``other``: the « autre »
    option) with the poll's opening time as its (unused) dates."""

    __tablename__ = "poll_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    label: Mapped[str | None] = mapped_column(Text)
    other: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_poll_slots_poll", "poll_id", "position", unique=True),)


class PollVote(Base):
    """A person's latest answer for one slot (yes, maybe, no for a date; yes for a chosen
    option; agree, abstain, disagree, block for a proposal; none when withdrawn), and its
    ``reason`` (a proposal's position) or the text of an « autre » answer."""

    __tablename__ = "poll_votes"
    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slots.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[str] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8))  # native, text
    voted_at: Mapped[datetime]
    event_id: Mapped[str]
    reason: Mapped[str | None] = mapped_column(Text)

    # Covering indexes: the tally counts and lists from the index alone.
    __table_args__ = (Index("ix_poll_votes_poll", "poll_id", "slot_id", "answer"),
                      Index("ix_poll_votes_voter", "poll_id", "user_id", "answer"),
                      Index("ix_poll_votes_slot", "slot_id", "answer", "voted_at"),
                      Index("ix_poll_votes_user", "user_id", "voted_at"))
