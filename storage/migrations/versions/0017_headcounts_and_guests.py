"""everyone who came: headcounts and guests

``meeting_headcounts``: how many people without Matrix came to an event, by category and
territory (no names). ``meeting_guests``: people without Matrix who came, by name only (a
sign-in sheet, or typed: ``source``), turned into headcounts once the event is older than the retention delay.
Nothing changes in the existing tables: the named Matrix attendance stays in
``meeting_attendance``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'meeting_headcounts',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('territory', sa.String(length=32), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('recorded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'territory', 'category'))
    op.create_table(
        'meeting_guests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('territory', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('recorded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_meeting_guests_meeting', 'meeting_guests', ['meeting_id'])


def downgrade() -> None:
    op.drop_index('ix_meeting_guests_meeting', table_name='meeting_guests')
    op.drop_table('meeting_guests')
    op.drop_table('meeting_headcounts')
