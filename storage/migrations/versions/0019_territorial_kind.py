"""the rencontres of the north and south: kind « territoriale »

The rencontres held for one territory (``nord``, ``sud``) with the club's kind (``rencontre``)
and for no groupe-projet become rencontres territoriales (``territoriale``); the joint ones
(``commun``) and the events of any other kind keep theirs. Down: every territorial rencontre
of the north or south becomes a rencontre du club again (those planned with
``--type territoriale`` too: nothing tells them apart).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CLUB = 'rencontre'
TERRITORIAL = 'territoriale'
TERRITORIES = ('nord', 'sud')

meetings = sa.table('meetings', sa.column('kind', sa.String()),
                    sa.column('territory', sa.String()), sa.column('group_id', sa.Integer()))


def _set_kind(old: str, new: str) -> None:
    op.execute(meetings.update()
               .where(meetings.c.kind == old, meetings.c.territory.in_(TERRITORIES),
                      meetings.c.group_id.is_(None))
               .values(kind=new))


def upgrade() -> None:
    _set_kind(CLUB, TERRITORIAL)


def downgrade() -> None:
    _set_kind(TERRITORIAL, CLUB)
