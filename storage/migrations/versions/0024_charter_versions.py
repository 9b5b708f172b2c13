"""the versions of the cadre de confiance, and the proposals that carry a new one

``charter_versions``: each version that became the club's charter (the config's text the first
start it is seen, or a text adopted by a proposal), the last adopted being the club's.
``charter_proposals``: the proposal (a poll of kind ``proposal``) carrying a new version's
label and text. Existing databases start empty: the next start records the config's version.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'charter_versions',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('poll_id', sa.Integer(), nullable=True),
        sa.Column('adopted_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('version'),
    )
    op.create_table(
        'charter_proposals',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id'),
    )


def downgrade() -> None:
    op.drop_table('charter_proposals')
    op.drop_table('charter_versions')
