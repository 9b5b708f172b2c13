"""commands sent in a thread

A command typed in a thread is answered in that thread: ``inbox.thread_root`` keeps the thread's
root event (``None`` for the main timeline), so a command queued before a stop is still answered
there after it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_root', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_column('thread_root')
