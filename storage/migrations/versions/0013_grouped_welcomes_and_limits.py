"""grouped welcomes and per-person limits

Newcomers are welcomed together, one message per room for those who arrived within a short
time: ``welcomes`` records each arrival (``welcomed_at``) and, once the grouped welcome naming
them is queued, ``greeted_at``. Rows already there were welcomed one by one: ``greeted_at``
takes their ``welcomed_at``. ``ix_welcomes_waiting`` finds the people still waiting, room by
room; ``ix_welcomes_room`` a room's latest welcome (the next one waits ``welcome_every_seconds``
after it).

The per-person caps (groups, remontées, initiatives per day) count what the audit trail says a
person did in the last 24 hours: ``ix_audit_actor`` (actor, time) reads just that.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('welcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('greeted_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_welcomes_waiting', ['greeted_at', 'room_id', 'welcomed_at'],
                              unique=False)
        batch_op.create_index('ix_welcomes_room', ['room_id', 'greeted_at'], unique=False)
    welcomes = sa.table('welcomes', sa.column('welcomed_at', UTCDateTime()),
                        sa.column('greeted_at', UTCDateTime()))
    op.execute(welcomes.update().values(greeted_at=welcomes.c.welcomed_at))
    op.create_index('ix_audit_actor', 'audit_log', ['actor', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_actor', table_name='audit_log')
    with op.batch_alter_table('welcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_welcomes_room')
        batch_op.drop_index('ix_welcomes_waiting')
        batch_op.drop_column('greeted_at')
