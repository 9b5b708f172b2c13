"""what an erased person did in their last day, for their daily caps

``cap_uses``: the kind and time of the audit entries of the 24 hours before a person's erasure,
under their id, so that ``!oublier-moi`` does not give them their daily caps back; the nightly
purge deletes each once a day old.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cap_uses',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_cap_uses_user', 'cap_uses', ['user_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_cap_uses_user', table_name='cap_uses')
    op.drop_table('cap_uses')
