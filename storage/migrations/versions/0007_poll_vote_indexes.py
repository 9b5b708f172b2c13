"""poll vote indexes

The covering indexes of the poll tally and of the yearly figures were first added by editing
0003 in place, which a database already past 0003 never runs: they are made here, whichever 0003
a database ran (the old one-column ``ix_poll_votes_poll`` is replaced by the covering one).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_poll_votes_poll': ['poll_id', 'slot_id', 'answer'],
    'ix_poll_votes_voter': ['poll_id', 'user_id', 'answer'],
    'ix_poll_votes_slot': ['slot_id', 'answer', 'voted_at'],
    'ix_poll_votes_user': ['user_id', 'voted_at'],
}


def upgrade() -> None:
    op.drop_index('ix_poll_votes_poll', table_name='poll_votes', if_exists=True)
    for name, columns in INDEXES.items():
        op.create_index(name, 'poll_votes', columns, unique=False, if_not_exists=True)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='poll_votes', if_exists=True)
    op.create_index('ix_poll_votes_poll', 'poll_votes', ['poll_id'], unique=False)
