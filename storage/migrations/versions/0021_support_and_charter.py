"""comments on polls, supports of remontées, the adoption of the cadre de confiance

``poll_comments``: members' comments on a poll. ``remontee_supports``: who co-signs a remontée
(``remontees.confirmation_txn``: the bot's confirmation, where a 👍 supports it).
``charter_adoptions``: who adopted which version of the charter. ``charter_posts``: the bot's
messages showing the charter, where a ✅ adopts it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'poll_comments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('event_id', sa.String(length=255), nullable=True),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_poll_comments_poll', 'poll_comments', ['poll_id', 'author'],
                    unique=False)
    op.create_index('ix_poll_comments_event', 'poll_comments', ['event_id'], unique=False)
    op.create_table(
        'remontee_supports',
        sa.Column('remontee_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reaction_event_id', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['remontee_id'], ['remontees.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('remontee_id', 'user_id'),
    )
    op.create_index('ix_remontee_supports_reaction', 'remontee_supports',
                    ['reaction_event_id'], unique=False)
    # Plain ADD COLUMN on SQLite too: no copy of the remontées' table.
    op.add_column('remontees', sa.Column('confirmation_txn', sa.String(length=255),
                                         nullable=True))
    op.create_index('ix_remontees_confirmation', 'remontees', ['confirmation_txn'],
                    unique=False)
    op.create_table(
        'charter_adoptions',
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reaction_event_id', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_charter_adoptions_reaction', 'charter_adoptions',
                    ['reaction_event_id'], unique=False)
    op.create_table(
        'charter_posts',
        sa.Column('txn_id', sa.String(length=255), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('room_id', sa.String(length=255), nullable=False),
        sa.Column('posted_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('txn_id'),
    )


def downgrade() -> None:
    op.drop_table('charter_posts')
    op.drop_index('ix_charter_adoptions_reaction', table_name='charter_adoptions')
    op.drop_table('charter_adoptions')
    op.drop_index('ix_remontees_confirmation', table_name='remontees')
    op.execute('ALTER TABLE remontees DROP COLUMN confirmation_txn')
    op.drop_index('ix_remontee_supports_reaction', table_name='remontee_supports')
    op.drop_table('remontee_supports')
    op.drop_index('ix_poll_comments_event', table_name='poll_comments')
    op.drop_index('ix_poll_comments_poll', table_name='poll_comments')
    op.drop_table('poll_comments')
