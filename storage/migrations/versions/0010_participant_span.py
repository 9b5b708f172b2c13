"""participant span

Each participant's row keeps the span of their participation, up to date with the ledger
(``participant_years``) as they take part: ``first_year`` and ``last_year`` (their first and
last years in the ledger), ``first_seen`` (their earliest activity, the ledger's earliest time)
and ``last_seen`` (their latest activity). ``!stats`` then counts people, active and new ones
in one pass over the participants instead of grouping the whole ledger by person, and that pass
reads the index ``ix_participants_profile_span`` (territory, category, first and last years),
already in the order of its grouping, instead of the rows.

Everyone in the ledger gets a row: people who voted in a native poll or were marked present
without ever writing a command had none, so the retention purge (``last_seen``) never reached
them; it now does. ``last_seen`` becomes their latest activity found in the activity tables
(use of the bot, group joins, votes, RSVPs, attendance at the rencontre's start), never earlier
than the one recorded.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5000


def _table(name: str, *columns: str, times: tuple[str, ...] = ()) -> sa.TableClause:
    """A table as this migration knows it (the models may change later)."""
    typed = [sa.column(c, sa.String() if c == 'user_id' else sa.Integer()) for c in columns]
    typed += [sa.column(at, UTCDateTime()) for at in times]
    return sa.table(name, *typed)


PARTICIPANTS = _table('participants', 'user_id', 'first_year', 'last_year',
                      times=('first_seen', 'last_seen'))
LEDGER = _table('participant_years', 'user_id', 'year', times=('first_at',))


class Span:
    """A person's participation as the ledger and the activity tables tell it (not a dataclass:
    Alembic loads this file outside ``sys.modules``)."""

    def __init__(self, year: int, at: datetime) -> None:
        self.first_year = self.last_year = year
        self.first_seen = self.last_seen = at


def _activities() -> list[sa.Select[Any]]:
    """(user id, time) of every activity the ledger records."""
    members = _table('group_members', 'user_id', times=('joined_at',))
    votes = _table('poll_votes', 'user_id', times=('voted_at',))
    rsvps = _table('meeting_rsvps', 'user_id', times=('at',))
    attendance = _table('meeting_attendance', 'user_id', 'meeting_id')
    meetings = _table('meetings', 'id', times=('starts_at',))
    return [sa.select(PARTICIPANTS.c.user_id, PARTICIPANTS.c.last_seen),
            sa.select(members.c.user_id, members.c.joined_at),
            sa.select(votes.c.user_id, votes.c.voted_at),
            sa.select(rsvps.c.user_id, rsvps.c.at),
            sa.select(attendance.c.user_id, meetings.c.starts_at)
            .join_from(attendance, meetings, meetings.c.id == attendance.c.meeting_id)]


def _spans(connection: sa.Connection) -> dict[str, Span]:
    """Each person of the ledger: first and last years, earliest time (from the ledger)."""
    spans: dict[str, Span] = {}
    for user_id, year, at in connection.execute(
            sa.select(LEDGER.c.user_id, LEDGER.c.year, LEDGER.c.first_at)):
        span = spans.get(user_id)
        if span is None:
            spans[user_id] = Span(year, at)
            continue
        span.first_year, span.last_year = min(span.first_year, year), max(span.last_year, year)
        span.first_seen, span.last_seen = min(span.first_seen, at), max(span.last_seen, at)
    return spans


def _latest(rows: Iterable[Any], spans: dict[str, Span]) -> None:
    """Moves each person's ``last_seen`` to their latest activity in ``rows``."""
    for user_id, at in rows:
        span = spans.get(user_id)
        if span is not None and at is not None and at > span.last_seen:
            span.last_seen = at


def _backfill(connection: sa.Connection) -> None:
    spans = _spans(connection)
    for query in _activities():
        _latest(connection.execute(query), spans)
    known = set(connection.scalars(sa.select(PARTICIPANTS.c.user_id)))
    rows = [{'user_id': user_id, 'first_year': span.first_year, 'last_year': span.last_year,
             'first_seen': span.first_seen, 'last_seen': span.last_seen}
            for user_id, span in sorted(spans.items())]
    updated = [{f'b_{key}': value for key, value in row.items()}
               for row in rows if row['user_id'] in known]
    update = (PARTICIPANTS.update().where(PARTICIPANTS.c.user_id == sa.bindparam('b_user_id'))
              .values({name: sa.bindparam(f'b_{name}') for name in
                       ('first_year', 'last_year', 'first_seen', 'last_seen')}))
    created = [row for row in rows if row['user_id'] not in known]
    for start in range(0, max(len(updated), len(created)), BATCH):
        if updated[start:start + BATCH]:
            connection.execute(update, updated[start:start + BATCH])
        if created[start:start + BATCH]:
            connection.execute(PARTICIPANTS.insert(), created[start:start + BATCH])


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_year', sa.Integer(), nullable=True))
    _backfill(op.get_bind())
    op.create_index('ix_participants_profile_span', 'participants',
                    ['territory', 'category', 'first_year', 'last_year'], unique=False)


def downgrade() -> None:
    # The rows created for people of the ledger stay: 0009's figures read them as people with
    # no profile, as they were.
    op.drop_index('ix_participants_profile_span', table_name='participants')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('last_year')
        batch_op.drop_column('first_year')
