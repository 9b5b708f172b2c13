"""participation ledger

``participant_years`` becomes the participation ledger: one row per person and calendar year in
which they took part (used the bot, joined a group, voted, answered or attended a rencontre),
with ``first_at``, their earliest activity of that year. The yearly figures read it instead of
grouping every activity table by person.

The ledger is backfilled from the activity tables so that an upgraded database gives the figures
the previous query gave: for each person and year, the earliest of their first use of the bot
(``participants.first_seen``), group joins, poll votes, RSVPs and attendance (at the rencontre's
start). A year of ``participant_years`` with none of these in it (the bot recorded the year of
each command, not its time) gets 1 January 00:00 of that year: such a row never holds the
person's first activity, because the bot wrote ``first_seen`` at their first command, which is
then in an earlier year, so no figure depends on that time.

The years are those of Europe/Paris, the default ``club.timezone``: a migration cannot read the
configuration, and SQLite has no time-zone functions, so they are computed here in Python. A
club configured with another time zone may see an activity of the hours around New Year counted
in the neighbouring year.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PARIS = ZoneInfo('Europe/Paris')  # the configuration's default: see above
BATCH = 5000


def _table(name: str, *columns: str, at: str | None = None) -> sa.TableClause:
    """A table as this migration knows it (the models may change later)."""
    typed = [sa.column(c, sa.String() if c == 'user_id' else sa.Integer()) for c in columns]
    if at is not None:
        typed.append(sa.column(at, UTCDateTime()))
    return sa.table(name, *typed)


LEDGER = _table('participant_years', 'user_id', 'year', at='first_at')


def _activities() -> list[sa.Select[Any]]:
    """(user id, time) of every activity the previous figures counted."""
    participants = _table('participants', 'user_id', at='first_seen')
    members = _table('group_members', 'user_id', at='joined_at')
    votes = _table('poll_votes', 'user_id', at='voted_at')
    rsvps = _table('meeting_rsvps', 'user_id', at='at')
    attendance = _table('meeting_attendance', 'user_id', 'meeting_id')
    meetings = _table('meetings', 'id', at='starts_at')
    return [sa.select(participants.c.user_id, participants.c.first_seen),
            sa.select(members.c.user_id, members.c.joined_at),
            sa.select(votes.c.user_id, votes.c.voted_at),
            sa.select(rsvps.c.user_id, rsvps.c.at),
            sa.select(attendance.c.user_id, meetings.c.starts_at)
            .join_from(attendance, meetings, meetings.c.id == attendance.c.meeting_id)]


def _earliest(rows: Iterable[Any], ledger: dict[tuple[str, int], datetime]) -> None:
    """Keeps in ``ledger`` the earliest time of each (user id, year in Paris)."""
    for user_id, at in rows:
        key = (user_id, at.astimezone(PARIS).year)
        if key not in ledger or at < ledger[key]:
            ledger[key] = at


def _backfill(connection: sa.Connection) -> None:
    ledger: dict[tuple[str, int], datetime] = {}
    for query in _activities():
        _earliest(connection.execute(query), ledger)
    for user_id, year in connection.execute(sa.select(LEDGER.c.user_id, LEDGER.c.year)):
        ledger.setdefault((user_id, year), datetime(year, 1, 1, tzinfo=PARIS).astimezone(UTC))
    connection.execute(LEDGER.delete())
    rows = [{'user_id': user_id, 'year': year, 'first_at': at}
            for (user_id, year), at in sorted(ledger.items())]
    for start in range(0, len(rows), BATCH):
        connection.execute(LEDGER.insert(), rows[start:start + BATCH])


def upgrade() -> None:
    with op.batch_alter_table('participant_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_at', UTCDateTime(timezone=True), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('participant_years', schema=None) as batch_op:
        batch_op.alter_column('first_at', existing_type=UTCDateTime(timezone=True),
                              nullable=False)


def downgrade() -> None:
    # The backfilled rows stay: each is a year in which the person took part, which the previous
    # figures counted as such anyway.
    with op.batch_alter_table('participant_years', schema=None) as batch_op:
        batch_op.drop_column('first_at')
