"""exact keys of personal data

A person is found by the exact Matrix id in a column, never by substring: two link tables hold
the people the bot's messages and the audit trail name, which were only inside JSON texts.

``outbox_people`` (message, person): whom a queued message concerns: the people in its
``m.mentions`` (a reply's addressee among them), its pills (``https://matrix.to/#/@…``) and the
person an invite is for; and the person whose direct room it was sent to (the ``!mes-donnees``
file). ``audit_people`` (entry, person): the people an audit entry's details name (``user``: a
referent added or removed; ``people``: those marked present).

Both are filled from the rows already there by reading their JSON exactly (``storage.personal``
does the same for new rows); a direct room is known by its ``bot_state`` key, a digest of the
person's id, matched against every id the inbox and the participants hold. A row whose text is
not JSON (an older erasure replaced display names inside it) is left without people.

On SQLite, ``outbox`` is rebuilt with AUTOINCREMENT: its old rows are now purged, and a new row
must never take the id of a deleted one (the sender remembers the ids it has sent).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:03:23.652860
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.participants import state_keys
from storage.personal import audit_people, people_in

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PAGE = 1000
OUTBOX = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('room_id', sa.String()),
                  sa.column('content', sa.Text()))
AUDIT = sa.table('audit_log', sa.column('id', sa.Integer()), sa.column('details', sa.Text()))
STATE = sa.table('bot_state', sa.column('key', sa.String()), sa.column('value', sa.Text()))
INBOX = sa.table('inbox', sa.column('sender', sa.String()))
PARTICIPANTS = sa.table('participants', sa.column('user_id', sa.String()))


def _pages(connection: sa.Connection, target: sa.TableClause,
           text: str) -> Iterator[list[Any]]:
    """The rows of ``target`` (id, …, text), a page at a time, in id order."""
    last = 0
    columns = [target.c.id, *(c for c in target.c if c.name not in ('id', text)), target.c[text]]
    while True:
        rows = connection.execute(sa.select(*columns).where(target.c.id > last)
                                  .order_by(target.c.id).limit(PAGE)).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or '')
    except ValueError:
        return None


def _direct_rooms(connection: sa.Connection) -> dict[str, str]:
    """Each remembered direct room, with the person it is for."""
    by_key = dict(connection.execute(sa.select(STATE.c.key, STATE.c.value)
                                     .where(STATE.c.key.like('dm:%'))).all())
    if not by_key:
        return {}
    people = set(connection.scalars(sa.select(INBOX.c.sender).distinct()))
    people |= set(connection.scalars(sa.select(PARTICIPANTS.c.user_id)))
    rooms = {}
    for person in people:
        room = by_key.get(state_keys(person)[0])
        if room is not None:
            rooms[room] = person
    return rooms


def _fill_outbox_people(connection: sa.Connection, links: sa.Table) -> None:
    direct = _direct_rooms(connection)
    for page in _pages(connection, OUTBOX, 'content'):
        rows = []
        for message, room, content in page:
            people = people_in(_json(content))
            if room in direct:
                people.add(direct[room])
            rows += [{'outbox_id': message, 'user_id': user} for user in sorted(people)]
        if rows:
            connection.execute(links.insert(), rows)


def _fill_audit_people(connection: sa.Connection, links: sa.Table) -> None:
    for page in _pages(connection, AUDIT, 'details'):
        rows = []
        for entry, details in page:
            value = _json(details)
            if isinstance(value, dict):
                rows += [{'audit_id': entry, 'user_id': user}
                         for user in sorted(audit_people(value))]
        if rows:
            connection.execute(links.insert(), rows)


def _outbox_ids_never_reused(autoincrement: bool) -> None:
    """On SQLite, ``outbox`` gets (or loses) AUTOINCREMENT: once old rows are purged, a new row
    must not take the id of one deleted (the sender remembers the ids it sent). PostgreSQL's
    sequence never reuses one."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table('outbox', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def _link_table(name: str, key: str, parent: str) -> sa.Table:
    """``name`` (``key`` → ``parent``.id, user_id), its primary key both, indexed by person."""
    table = op.create_table(
        name,
        sa.Column(key, sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint([key], [f'{parent}.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint(key, 'user_id'))
    assert table is not None
    return table


LINKS = (('audit_people', 'audit_id', 'audit_log', _fill_audit_people),
         ('outbox_people', 'outbox_id', 'outbox', _fill_outbox_people))


def upgrade() -> None:
    _outbox_ids_never_reused(True)
    for name, key, parent, fill in LINKS:
        fill(op.get_bind(), _link_table(name, key, parent))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(f'ix_{name}_user', ['user_id'], unique=False)


def downgrade() -> None:
    for name, _key, _parent, _fill in reversed(LINKS):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_user')
        op.drop_table(name)
    _outbox_ids_never_reused(False)
