"""funding obtained by the groups, structured

``group_funding``: money a groupe-projet obtained (funder, amount in cents, day). The groups'
free text ``project_groups.funding`` is kept as it is: it stays the group's funding note.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'group_funding',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('funder', sa.String(length=120), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('obtained_on', sa.Date(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['project_groups.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_group_funding_group', 'group_funding', ['group_id', 'obtained_on'],
                    unique=False)
    op.create_index('ix_group_funding_day', 'group_funding', ['obtained_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_group_funding_day', table_name='group_funding')
    op.drop_index('ix_group_funding_group', table_name='group_funding')
    op.drop_table('group_funding')
