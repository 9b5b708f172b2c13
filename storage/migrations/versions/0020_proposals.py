"""polls of every kind: proposals and polls on anything

``polls.kind`` (``dates``, ``choice``, ``proposal``), ``multiple``, ``anonymous``,
``allow_other``; a proposal's ``outcome`` (``outcome_by``, ``outcome_at``).
``poll_slots.label`` (an option's text) and ``other`` (the « autre » option);
``poll_votes.reason`` (a position's reason, an « autre » answer's text). Existing polls are
date polls.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too: no copy of the polls' tables (a copy of poll_slots would
    # delete the votes through their ON DELETE CASCADE).
    op.add_column('polls', sa.Column('kind', sa.String(length=16), server_default='dates',
                                     nullable=False))
    for flag in ('multiple', 'anonymous', 'allow_other'):
        op.add_column('polls', sa.Column(flag, sa.Boolean(), server_default=sa.false(),
                                         nullable=False))
    op.add_column('polls', sa.Column('outcome', sa.Text(), nullable=True))
    op.add_column('polls', sa.Column('outcome_by', sa.String(length=255), nullable=True))
    op.add_column('polls', sa.Column('outcome_at', storage.models.UTCDateTime(timezone=True),
                                     nullable=True))
    op.create_index('ix_polls_outcome', 'polls', ['kind', 'outcome_at'], unique=False)
    op.add_column('poll_slots', sa.Column('label', sa.Text(), nullable=True))
    op.add_column('poll_slots', sa.Column('other', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    op.add_column('poll_votes', sa.Column('reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE poll_votes DROP COLUMN reason')
    op.execute('ALTER TABLE poll_slots DROP COLUMN other')
    op.execute('ALTER TABLE poll_slots DROP COLUMN label')
    op.drop_index('ix_polls_outcome', table_name='polls')
    for column in ('outcome_at', 'outcome_by', 'outcome', 'allow_other', 'anonymous',
                   'multiple', 'kind'):
        op.execute(f'ALTER TABLE polls DROP COLUMN {column}')
