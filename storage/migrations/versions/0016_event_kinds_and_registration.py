"""kinds of event, their details, and registration

A rencontre becomes an event of the club's programme: ``kind`` (a key of ``[events.kinds]``;
the existing rows are « rencontre », the club's rencontre), ``title``, ``theme``,
``description``, ``link`` (an https visio link), ``group_id`` (an event for a groupe-projet),
``capacity`` (places; none: no registration) and ``organiser`` (the existing rows: whoever
planned them). Registrations are answers (``meeting_rsvps``): ``present`` holds a place,
``attente`` waits for one; nothing changes in that table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on SQLite too: a batch would copy the table, and dropping the
    # old one would delete the answers and attendance that cascade from it.
    op.add_column('meetings', sa.Column('kind', sa.String(length=32), server_default='rencontre',
                                        nullable=False))
    for name, kind in (('title', sa.String(length=200)), ('description', sa.Text()),
                       ('link', sa.String(length=500))):
        op.add_column('meetings', sa.Column(name, kind, server_default=sa.text("''"),
                                            nullable=False))
    op.add_column('meetings', sa.Column('theme', sa.String(length=32), nullable=True))
    op.add_column('meetings', sa.Column('group_id', sa.Integer(), nullable=True))
    op.add_column('meetings', sa.Column('capacity', sa.Integer(), nullable=True))
    op.add_column('meetings', sa.Column('organiser', sa.String(length=255), nullable=True))
    meetings = sa.table('meetings', sa.column('organiser', sa.String()),
                        sa.column('created_by', sa.String()))
    op.execute(meetings.update().values(organiser=meetings.c.created_by))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35 and later) for the same reason.
    for column in ('organiser', 'capacity', 'group_id', 'theme', 'link', 'description', 'title',
                   'kind'):
        op.execute(f'ALTER TABLE meetings DROP COLUMN {column}')
