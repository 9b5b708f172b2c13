"""actions decided at events, and their reminders

``actions``: what was decided at an event, in the charge of a member (``assignee``) or a
groupe-projet (``group_id``), with an optional due date, open until done or cancelled.
``reminders.action_id``: the reminder sent before an action's due date (kind ``action``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'actions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('assignee', sa.String(length=255), nullable=True),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_by', sa.String(length=255), nullable=True),
        sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_actions_status', 'actions', ['status', 'meeting_id'], unique=False)
    op.create_index('ix_actions_assignee', 'actions', ['assignee'], unique=False)
    # Plain ADD COLUMN on SQLite too: no copy of the reminders' table.
    op.add_column('reminders', sa.Column('action_id', sa.Integer(), nullable=True))
    op.create_index('ix_reminders_action', 'reminders', ['action_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reminders_action', table_name='reminders')
    op.execute('ALTER TABLE reminders DROP COLUMN action_id')
    op.drop_index('ix_actions_assignee', table_name='actions')
    op.drop_index('ix_actions_status', table_name='actions')
    op.drop_table('actions')
