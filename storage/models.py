"""Typed SQLAlchemy models. Every timestamp is stored and returned as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that refuses naive datetimes and always comes back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class BotState(Base):
    """Small key/value facts about the runtime (the sync token…)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JoinedRoom(Base):
    """A room the bot is in, since its latest join (older events are history; a room left is
    deleted), and the last timeline event it has seen there."""

    __tablename__ = "joined_rooms"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_id: Mapped[str | None] = mapped_column(String(255))


class InboxEvent(Base):
    """A command received from the homeserver, kept until handled (a durable queue)."""

    __tablename__ = "inbox"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the root of the thread the command was sent in (answered there); None: the main timeline
    thread_root: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_inbox_pending", "handled_at", "received_at"),)


class OutboxMessage(Base):
    """A message to send, with a transaction id derived from what it is (exactly-once)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(255), unique=True)
    room_id: Mapped[str] = mapped_column(String(255))
    # send (an event), invite (content: user_id) or state (event_type + state_key)
    action: Mapped[str] = mapped_column(String(16), default="send", server_default="send")
    event_type: Mapped[str] = mapped_column(String(255), default="m.room.message")
    state_key: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    event_id: Mapped[str | None] = mapped_column(String(255))
    # The first failure of a row still retried (the retries stop ``send_retry_hours`` later),
    # and when it was set aside as failed: never tried again, reported once.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Row ids are never reused (SQLite's AUTOINCREMENT; PostgreSQL's sequence): the sender
    # remembers the ids it sent, and old rows are purged.
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),
                      Index("ix_outbox_event", "event_id"), {"sqlite_autoincrement": True})


class OutboxPerson(Base):
    """A person a queued message concerns: its addressee, the people it mentions or shows as
    pills, the person invited, the person a file is about (exact ids, found when it is queued)."""

    __tablename__ = "outbox_people"
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_outbox_people_user", "user_id"),)


class Welcome(Base):
    """A person the bot welcomes (once per person): recorded when they first join a club room
    (``welcomed_at``), greeted in that room's next grouped welcome (``greeted_at``: when that
    message was queued; ``None`` while waiting for it)."""

    __tablename__ = "welcomes"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    welcomed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    greeted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_welcomes_waiting", "greeted_at", "room_id", "welcomed_at"),
                      Index("ix_welcomes_room", "room_id", "greeted_at"))


class ScheduledMessage(Base):
    """A message due in a room at a given time: the simplest kind of scheduled thing."""

    __tablename__ = "scheduled_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255))
    markdown: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_scheduled_messages_due", "sent_at", "cancelled_at", "due_at"),)


class ProjectGroup(Base):
    """A groupe-projet: its identity, its classification and its own room."""

    __tablename__ = "project_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)  # folded name (duplicates)
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(32))
    territory: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    funding: Mapped[str] = mapped_column(Text, default="")
    room_id: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_project_groups_status", "status", "id"),)


class GroupMember(Base):
    """A person in a group, since when, and whether they are one of its referents."""

    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    referent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_group_members_user", "user_id"),)


class GroupProgress(Base):
    """One dated entry of a group's progress log."""

    __tablename__ = "group_progress"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_group_progress_group", "group_id", "created_at"),)


class GroupNeed(Base):
    """Something a group needs (skills, funding, equipment…), until it is met."""

    __tablename__ = "group_needs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("project_groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_group_needs_group", "group_id"),)


class Initiative(Base):
    """An existing transition initiative of the territory (the panorama)."""

    __tablename__ = "initiatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(32))
    commune: Mapped[str] = mapped_column(String(80))
    contact: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    search_key: Mapped[str] = mapped_column(Text)  # folded name, description and commune
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who changed what, and when (groups, initiatives…)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, default="{}")

    __table_args__ = (Index("ix_audit_subject", "subject", "subject_id", "at"),
                      Index("ix_audit_actor", "actor", "at"))


class AuditPerson(Base):
    """A person an audit entry names besides its actor (``user``: a referent added or removed;
    ``people``: those marked present), by exact id."""

    __tablename__ = "audit_people"
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_audit_people_user", "user_id"),)


class Person(Base):
    """What a person chose about the bot (mentions in reminders…)."""

    __tablename__ = "people"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    mentions: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
    capacity: Mapped[int | None] = mapped_column(Integer)  # places; none: no registration
    organiser: Mapped[str | None] = mapped_column(String(255))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(500), default="")
    territory: Mapped[str] = mapped_column(String(16))  # nord, sud, commun
    status: Mapped[str] = mapped_column(String(16), default="prevue")  # prevue, tenue, annulee
    poll_id: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # ICS SEQUENCE, bumped on changes
    minutes: Mapped[str] = mapped_column(Text, default="")  # compte-rendu: text or a link
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    rooms: Mapped[str] = mapped_column(Text, default="[]")  # JSON: rooms it was announced in
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_meetings_start", "starts_at"),)


class MeetingRsvp(Base):
    """Who says they will come (present, absent, peutetre); for an event with places,
    ``present`` holds a place and ``attente`` waits for one, in the order of ``at``."""

    __tablename__ = "meeting_rsvps"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    answer: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingAttendance(Base):
    """Who actually came."""

    __tablename__ = "meeting_attendance"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Poll(Base):
    """A date poll: a question, candidate slots, votes, a deadline."""

    __tablename__ = "polls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(String(16))  # nord, sud, tous
    room_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    results_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_polls_status", "status", "closes_at"),)


class PollSlot(Base):
    """A candidate date of a poll, numbered from 1."""

    __tablename__ = "poll_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_poll_slots_poll", "poll_id", "position", unique=True),)


class PollVote(Base):
    """A person's latest answer for one slot (yes, maybe, no; none when withdrawn)."""

    __tablename__ = "poll_votes"
    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slots.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    poll_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8))  # native, text
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_id: Mapped[str] = mapped_column(String(255))

    # Covering indexes: the tally counts and lists from the index alone.
    __table_args__ = (Index("ix_poll_votes_poll", "poll_id", "slot_id", "answer"),
                      Index("ix_poll_votes_voter", "poll_id", "user_id", "answer"),
                      Index("ix_poll_votes_slot", "slot_id", "answer", "voted_at"),
                      Index("ix_poll_votes_user", "user_id", "voted_at"))


class AgendaSuggestion(Base):
    """A point someone suggests for a rencontre's agenda, and what became of it."""

    __tablename__ = "agenda_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    # proposee (waiting), acceptee, refusee, retiree
    status: Mapped[str] = mapped_column(String(16), default="proposee")
    reason: Mapped[str] = mapped_column(Text, default="")
    room_id: Mapped[str] = mapped_column(String(255))
    confirmation_txn: Mapped[str] = mapped_column(String(255))  # the bot's reply: 👍 there counts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_agenda_suggestions_meeting", "meeting_id", "status"),
                      Index("ix_agenda_suggestions_confirmation", "confirmation_txn"))


class AgendaSupport(Base):
    """Someone supports a suggestion (by command or by a 👍 reaction)."""

    __tablename__ = "agenda_supports"
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_suggestions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reaction_event_id: Mapped[str | None] = mapped_column(String(255))

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
    presenter: Mapped[str | None] = mapped_column(String(255))
    suggestion_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)  # the tour of project groups
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_agenda_items_meeting", "meeting_id", "position"),)


class AgendaState(Base):
    """Where a rencontre's agenda stands: draft posted, published (what, where, which version)."""

    __tablename__ = "agenda_states"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    draft_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the items as published
    rooms: Mapped[str] = mapped_column(Text, default="[]")  # JSON: rooms it is pinned in


class Remontee(Base):
    """An expectation of the citizens carried to the elected council, and its answer."""

    __tablename__ = "remontees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="nouvelle")  # transmise, repondue
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_by: Mapped[str | None] = mapped_column(String(255))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str | None] = mapped_column(String(255))


class Reminder(Base):
    """Something to say in a room at a time: a person's or a room's reminder (possibly
    recurring), or one the club's rhythm creates (before a rencontre, minutes due…)."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # personal, room, meeting, agenda_call, agenda_deadline, progress_call, minutes_due
    kind: Mapped[str] = mapped_column(String(24))
    room_id: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))  # who asked (the bot for automatic ones)
    text: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str | None] = mapped_column(String(100))  # recurrence (commands.dates)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it is meant for
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())  # after the quiet hours
    occurrence: Mapped[int] = mapped_column(Integer, default=0)  # part of the txn id
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[str] = mapped_column(String(16), default="")  # J-7, J-1, H-2…
    status: Mapped[str] = mapped_column(String(12), default="pending")  # sent, cancelled, dropped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_reminders_due", "status", "send_at"),
                      Index("ix_reminders_owner", "owner", "status"),
                      Index("ix_reminders_meeting", "meeting_id", "kind", "status"))


class Participant(Base):
    """Someone who took part (used the bot, joined a group, voted, answered or came to a
    rencontre): the span of their participation, kept up to date with the ledger below so that
    the yearly counts read one row per person; and the optional profile, filled by the person
    (``!profil``), with the date of their consent."""

    __tablename__ = "participants"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())  # earliest activity
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())  # latest (retention)
    # Their first and last calendar years in the ledger (empty: a profile, no activity yet).
    first_year: Mapped[int | None] = mapped_column(Integer)
    last_year: Mapped[int | None] = mapped_column(Integer)
    territory: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_participants_last_seen", "last_seen"),
                      # the yearly counts by profile read this index, not the rows
                      Index("ix_participants_profile_span", "territory", "category",
                            "first_year", "last_year"))


class ParticipantYear(Base):
    """The participation ledger: a calendar year (in the club's time zone) in which a person
    took part (used the bot, joined a group, voted, answered or attended a rencontre), with
    their earliest activity of that year. Written with each activity, never withdrawn."""

    __tablename__ = "participant_years"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
