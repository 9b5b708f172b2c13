"""the people a headcount holds from forgotten guests, kept apart

``meeting_headcounts.from_guests``: of ``count``, the people added when guests were forgotten
(``!rencontre oublier-invite``, the retention delay); a new headcount typed for their territory
(``!rencontre effectif``) replaces the rest and keeps them. Existing rows: 0 (what they hold
cannot be told apart).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meeting_headcounts', sa.Column('from_guests', sa.Integer(),
                                                  server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    op.execute('ALTER TABLE meeting_headcounts DROP COLUMN from_guests')
