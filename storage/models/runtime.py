"""The runtime's tables: its state, the rooms it is in, the inbox of commands, the outbox of
what it sends (and whom each message concerns), welcomes, scheduled messages and reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class BotState(Base):
    """Small key/value facts about the runtime (the sync token…)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JoinedRoom(Base):
    """A room the bot is in, since its latest join (older events are history; a room left is
    deleted), and the last timeline event it has seen there."""

    __tablename__ = "joined_rooms"
    room_id: Mapped[str] = mapped_column(primary_key=True)
    joined_at: Mapped[datetime]
    last_event_id: Mapped[str | None]


class InboxEvent(Base):
    """A command received from the homeserver, kept until handled (a durable queue)."""

    __tablename__ = "inbox"
    event_id: Mapped[str] = mapped_column(primary_key=True)
    room_id: Mapped[str]
    sender: Mapped[str]
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    # the root of the thread the command was sent in (answered there); None: the main timeline
    thread_root: Mapped[str | None]

    __table_args__ = (Index("ix_inbox_pending", "handled_at", "received_at"),)


class OutboxMessage(Base):
    """A message to send, with a transaction id derived from what it is (exactly-once)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(unique=True)
    room_id: Mapped[str]
    # send (an event), invite (content: user_id) or state (event_type + state_key)
    action: Mapped[str] = mapped_column(String(16), default="send", server_default="send")
    event_type: Mapped[str] = mapped_column(default="m.room.message")
    state_key: Mapped[str | None]
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    event_id: Mapped[str | None]
    # The first failure of a row still retried (the retries stop ``send_retry_hours`` later),
    # and when it was set aside as failed: never tried again, reported once.
    failing_since: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

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
    user_id: Mapped[str] = mapped_column(primary_key=True)

    __table_args__ = (Index("ix_outbox_people_user", "user_id"),)


class Welcome(Base):
    """A person the bot welcomes (once per person): recorded when they first join a club room
    (``welcomed_at``), greeted in that room's next grouped welcome (``greeted_at``: when that
    message was queued; ``None`` while waiting for it)."""

    __tablename__ = "welcomes"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    room_id: Mapped[str]
    welcomed_at: Mapped[datetime]
    greeted_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_welcomes_waiting", "greeted_at", "room_id", "welcomed_at"),
                      Index("ix_welcomes_room", "room_id", "greeted_at"))


class ScheduledMessage(Base):
    """A message due in a room at a given time: the simplest kind of scheduled thing."""

    __tablename__ = "scheduled_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str]
    markdown: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_scheduled_messages_due", "sent_at", "cancelled_at", "due_at"),)


class Reminder(Base):
    """Something to say in a room at a time: a person's or a room's reminder (possibly
    recurring), or one the club's rhythm creates (before a rencontre, minutes due…)."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # personal, room, group_room, meeting, agenda_call, agenda_deadline, progress_call,
    # minutes_due, action
    kind: Mapped[str] = mapped_column(String(24))
    room_id: Mapped[str]
    owner: Mapped[str]  # who asked (the bot for automatic ones)
    text: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str | None] = mapped_column(String(100))  # recurrence (commands.dates)
    due_at: Mapped[datetime]  # when it is meant for
    send_at: Mapped[datetime]  # after the quiet hours
    occurrence: Mapped[int] = mapped_column(Integer, default=0)  # part of the txn id
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    action_id: Mapped[int | None] = mapped_column(Integer)  # an action's reminder (kind action)
    offset: Mapped[str] = mapped_column(String(16), default="")  # J-7, J-1, H-2…
    status: Mapped[str] = mapped_column(String(12), default="pending")  # sent, cancelled, dropped
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_reminders_due", "status", "send_at"),
                      Index("ix_reminders_owner", "owner", "status"),
                      Index("ix_reminders_meeting", "meeting_id", "kind", "status"),
                      Index("ix_reminders_action", "action_id", "status"))
