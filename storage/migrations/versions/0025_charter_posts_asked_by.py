"""who asked for a message showing the charter (``!cadre``)

``charter_posts.asked_by``: the member whose ``!cadre`` the message answers (none for a welcome or
a call to adopt a new version). A member's newer ``!cadre`` in a room replaces their older one
there as the message to adopt (one kept per member and room), and their erasure
deletes them. Existing rows keep none.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('charter_posts') as batch:
        batch.add_column(sa.Column('asked_by', sa.String(length=255), nullable=True))
        batch.create_index('ix_charter_posts_asked_by', ['asked_by'])


def downgrade() -> None:
    with op.batch_alter_table('charter_posts') as batch:
        batch.drop_index('ix_charter_posts_asked_by')
        batch.drop_column('asked_by')
