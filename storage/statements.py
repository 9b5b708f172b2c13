"""The statements every command runs, built once per kind of database and then run with each
call's values: building a statement (and its cache key) costs about as much as running it.

Each builder is cached by the dialect's name (``sqlite`` or ``postgresql``); the values are
passed at execution, named after the columns (inserts) or ``b_<name>`` (updates: SQLAlchemy
keeps column names for the values it sets).
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy import insert as plain_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Base,
    BotState,
    InboxEvent,
    JoinedRoom,
    OutboxMessage,
    OutboxPerson,
    Participant,
    ParticipantYear,
    Poll,
    PollSlot,
    PollVote,
    Reminder,
)

# An execution option: a SELECT that writes (its CTEs insert), counted as a write
# (``storage.undo``).
WRITES = "cct_writes"


def table(model: type[Base]) -> Table:
    """The model's table: statements on it skip the ORM's bulk machinery."""
    return cast(Table, model.__table__)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert(dialect: str, target: Any) -> Any:
    """An INSERT with ``ON CONFLICT`` support for ``dialect`` (SQLite or PostgreSQL)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def _param(model: type[Base], column: str) -> Any:
    """``b_<column>``, typed as the column (time stamps go through their UTC conversion)."""
    return bindparam(f"b_{column}", type_=table(model).c[column].type)


def _upsert(dialect: str, model: type[Base], keys: tuple[str, ...], column: str,
            only_earlier: bool = False) -> Any:
    """INSERT, or for a row whose ``keys`` are there, set ``column`` to the new value (only if
    it is earlier, with ``only_earlier``)."""
    target = table(model)
    statement = insert(dialect, target)
    new = statement.excluded[column]
    return statement.on_conflict_do_update(
        index_elements=[target.c[key] for key in keys], set_={column: new},
        where=(new < target.c[column]) if only_earlier else None)


@cache
def state_upsert(dialect: str) -> Any:
    """Sets ``bot_state.value`` for ``key`` (values: key, value)."""
    return _upsert(dialect, BotState, ("key",), "value")


def _update(model: type[Base], key: str, *columns: str) -> Any:
    """UPDATE ``columns`` of the row whose ``key`` is given (values: ``b_`` + each name)."""
    target = table(model)
    return (update(target).where(target.c[key] == _param(model, key))
            .values({column: _param(model, column) for column in columns}))


@cache
def last_event_update() -> Any:
    """A room's last event seen (values: b_room_id, b_last_event_id)."""
    return _update(JoinedRoom, "room_id", "last_event_id")


@cache
def inbox_insert(dialect: str) -> Any:
    """Commands received, those whose event is known left out (values: the inbox's columns,
    one set per command); returns the event ids inserted."""
    inbox = table(InboxEvent)
    return (insert(dialect, inbox).on_conflict_do_nothing(index_elements=[inbox.c.event_id])
            .returning(inbox.c.event_id))


@cache
def inbox_handled() -> Any:
    """A command marked handled (values: b_event_id, b_handled_at)."""
    return _update(InboxEvent, "event_id", "handled_at")


@cache
def inbox_withdraw(by_author: bool) -> Any:
    """A command redacted: its body emptied, its handled time set unless it was handled
    (values: b_event_id, b_room_id, b_handled_at, and b_sender ``by_author``)."""
    inbox = table(InboxEvent)
    match = and_(inbox.c.event_id == _param(InboxEvent, "event_id"),
                 inbox.c.room_id == _param(InboxEvent, "room_id"))
    if by_author:
        match = and_(match, inbox.c.sender == _param(InboxEvent, "sender"))
    return update(inbox).where(match).values(
        body="", handled_at=func.coalesce(inbox.c.handled_at, _param(InboxEvent, "handled_at")))


@cache
def outbox_insert(dialect: str) -> Any:
    """A message queued, unless its transaction id is; returns its id (values: the outbox's
    columns)."""
    outbox = table(OutboxMessage)
    return (insert(dialect, outbox).on_conflict_do_nothing(index_elements=[outbox.c.txn_id])
            .returning(outbox.c.id))


@cache
def outbox_insert_concerning(columns: tuple[str, ...]) -> Any:
    """PostgreSQL: ``outbox_insert`` and the people the message concerns in one statement (one
    round trip instead of two); returns its id, nothing if its transaction id was queued
    already. Values: the outbox's ``columns`` as ``b_<column>``; ``b_people``, their ids."""
    outbox = table(OutboxMessage)
    queued = (postgresql.insert(outbox)
              .values({name: _param(OutboxMessage, name) for name in columns})
              .on_conflict_do_nothing(index_elements=[outbox.c.txn_id])
              .returning(outbox.c.id).cte("queued"))
    person = func.unnest(bindparam("b_people", type_=postgresql.ARRAY(String))).table_valued(
        "user_id").render_derived()
    concerned = plain_insert(table(OutboxPerson)).from_select(
        ["outbox_id", "user_id"],
        select(queued.c.id, person.c.user_id).select_from(queued.join(person, true()))
    ).cte("concerned")
    return select(queued.c.id).add_cte(concerned).execution_options(**{WRITES: True})


@cache
def outbox_people_insert() -> Any:
    """The people a queued message concerns (values: outbox_id, user_id; an executemany)."""
    return plain_insert(table(OutboxPerson))


@cache
def outbox_sent() -> Any:
    """A message marked sent (values: b_id, b_sent_at, b_event_id), unless it is already: an
    erasure may have withdrawn it while it was being sent (its event id is not written)."""
    outbox = table(OutboxMessage)
    return _update(OutboxMessage, "id", "sent_at", "event_id").where(outbox.c.sent_at.is_(None))


@cache
def outbox_sent_by_txn() -> Any:
    """A message marked sent by its transaction id (values: b_txn_id, b_sent_at, b_event_id),
    unless it is already."""
    outbox = table(OutboxMessage)
    return (_update(OutboxMessage, "txn_id", "sent_at", "event_id")
            .where(outbox.c.sent_at.is_(None)))


@cache
def participant_took_part(dialect: str) -> Any:
    """A participant created, or the span of their participation widened: the earliest
    ``first_seen`` and ``first_year`` are kept, the latest ``last_seen`` and ``last_year``
    (values: those columns and user_id). A row created by a profile alone, before any
    participation (``first_year`` empty), takes the participation's ``first_seen``. A row the
    new values would not change is not written (no new row version, no index update)."""
    target = table(Participant)
    statement = insert(dialect, target)
    new, old = statement.excluded, target.c
    never = old.first_year.is_(None)
    earlier_seen, later_seen = new.first_seen < old.first_seen, new.last_seen > old.last_seen
    earlier_year = or_(never, new.first_year < old.first_year)
    later_year = or_(old.last_year.is_(None), new.last_year > old.last_year)
    return statement.on_conflict_do_update(index_elements=[old.user_id], set_={
        "first_seen": case((or_(never, earlier_seen), new.first_seen), else_=old.first_seen),
        "last_seen": case((later_seen, new.last_seen), else_=old.last_seen),
        "first_year": case((earlier_year, new.first_year), else_=old.first_year),
        "last_year": case((later_year, new.last_year), else_=old.last_year),
    }, where=or_(earlier_seen, later_seen, earlier_year, later_year))


@cache
def ledger_upsert(dialect: str) -> Any:
    """The participation ledger: a (person, year) added, or its time moved earlier (values:
    user_id, year, first_at)."""
    return _upsert(dialect, ParticipantYear, ("user_id", "year"), "first_at", only_earlier=True)


@cache
def votes_of() -> Any:
    """A person's answers to one poll: slot_id, answer, voted_at, event_id, reason (values:
    b_poll_id, b_user_id)."""
    votes = table(PollVote)
    return (select(votes.c.slot_id, votes.c.answer, votes.c.voted_at, votes.c.event_id,
                   votes.c.reason)
            .where(votes.c.poll_id == bindparam("b_poll_id"),
                   votes.c.user_id == bindparam("b_user_id")))


@cache
def poll_slots() -> Any:
    """A poll's slots (ORM objects), in order (values: b_poll_id)."""
    return (select(PollSlot).where(PollSlot.poll_id == bindparam("b_poll_id"))
            .order_by(PollSlot.position))


@cache
def vote_counts() -> Any:
    """(slot_id, answer, people) of a poll's answers (values: b_poll_id)."""
    votes = table(PollVote)
    return (select(votes.c.slot_id, votes.c.answer, func.count())
            .where(votes.c.poll_id == bindparam("b_poll_id"), votes.c.answer.is_not(None))
            .group_by(votes.c.slot_id, votes.c.answer))


@cache
def voter_count() -> Any:
    """How many people answered a poll (values: b_poll_id)."""
    votes = table(PollVote)
    return (select(func.count(votes.c.user_id.distinct()))
            .where(votes.c.poll_id == bindparam("b_poll_id"), votes.c.answer.is_not(None)))


@cache
def refusals(slots: int) -> Any:
    """Per slot, the first ``b_limit`` people who answered no (slot_id, user_id, voted_at):
    one small indexed read per slot, joined in one statement (values: b_slot0… b_limit)."""
    votes = table(PollVote)
    reads = [select(votes.c.slot_id, votes.c.user_id, votes.c.voted_at)
             .where(votes.c.slot_id == bindparam(f"b_slot{n}"), votes.c.answer == "no")
             .order_by(votes.c.voted_at, votes.c.user_id).limit(bindparam("b_limit"))
             .subquery() for n in range(slots)]
    parts = [select(read) for read in reads]
    query = union_all(*parts) if len(parts) > 1 else parts[0]
    columns = query.selected_columns
    return query.order_by(columns.slot_id, columns.voted_at, columns.user_id)


@cache
def vote_upsert(dialect: str) -> Any:
    """A person's answer for a slot, recorded, or replaced unless the one recorded is later
    (values: poll_votes' columns; one set per slot, run as one executemany)."""
    votes = table(PollVote)
    statement = insert(dialect, votes)
    return statement.on_conflict_do_update(
        index_elements=[votes.c.slot_id, votes.c.user_id],
        set_={column: statement.excluded[column]
              for column in ("poll_id", "answer", "source", "voted_at", "event_id", "reason")},
        where=votes.c.voted_at <= statement.excluded.voted_at)


@cache
def results_bump() -> Any:
    """A poll's results version moved on by one; returns the new one (values: b_id)."""
    polls = table(Poll)
    return (update(polls).where(polls.c.id == bindparam("b_id"))
            .values(results_version=polls.c.results_version + 1)
            .returning(polls.c.results_version))


@cache
def reminder_insert() -> Any:
    """A reminder added; returns its id (values: the reminders' columns but id)."""
    reminders = table(Reminder)
    return plain_insert(reminders).returning(reminders.c.id)
