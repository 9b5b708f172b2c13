"""outbox rows that keep failing

A row the homeserver keeps refusing, or never answers, is retried with growing waits from its
first failure (``failing_since``, kept across restarts) for ``matrix.send_retry_hours``, then
set aside (``failed_at``): never tried again, reported once to the coordinators. The pending
rows are those neither sent nor set aside.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
        batch_op.drop_column('failing_since')
