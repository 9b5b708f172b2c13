"""project group status index

``!projet liste`` filters and orders the groups by status, then by number, and counts those of
each status it shows: an index on ``(status, id)`` answers the counts from the index alone and
spares the page a scan of the whole table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_project_groups_status', 'project_groups', ['status', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_project_groups_status', table_name='project_groups')
