"""A PostgreSQL test database put back to a state it was in, in one round trip: the rows of
every table of the ``public`` schema and the value of every sequence are copied to a schema of
their own (``SNAPSHOT``); putting them back deletes every row and inserts the copies.

The snapshot also keeps a fingerprint of the schema (tables, columns, constraints, indexes…):
after a test changed the schema itself (a migration test, a dropped table), ``put_back`` says
it cannot, and the caller rebuilds the database."""

from __future__ import annotations

import asyncpg

from storage.models import Base

SNAPSHOT = "cct_test_snapshot"

# Everything of the public schema but its rows: any change makes a snapshot unusable.
FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'r ' || relname || ' ' || relkind::text FROM pg_class
    WHERE relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'a ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' '
      || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
      || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
  UNION ALL SELECT 'k ' || conrelid::regclass::text || ' ' || conname || ' '
      || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'i ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 't ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
  UNION ALL SELECT 'f ' || proname || '(' || pg_get_function_identity_arguments(oid) || ')'
    FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'y ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
) AS items(item)
"""


def dsn(url: str) -> str:
    """The asyncpg address of a SQLAlchemy URL (``postgresql+asyncpg://…``)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def tables(connection: asyncpg.Connection) -> list[str]:
    """The tables of the public schema, each after those it refers to."""
    found = {row[0] for row in await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    ordered = [table.name for table in Base.metadata.sorted_tables if table.name in found]
    return ordered + sorted(found - set(ordered))  # alembic_version


async def take(url: str) -> None:
    """Copies the database's rows and sequences (replacing any earlier snapshot)."""
    connection = await asyncpg.connect(dsn(url))
    try:
        async with connection.transaction():
            await connection.execute(f'DROP SCHEMA IF EXISTS "{SNAPSHOT}" CASCADE; '
                                     f'CREATE SCHEMA "{SNAPSHOT}"')
            names = await tables(connection)
            for table in names:
                await connection.execute(
                    f'CREATE TABLE "{SNAPSHOT}"."{table}" AS TABLE public."{table}"')
            # children first; a few rows each: DELETE costs far less than TRUNCATE
            script = [f'DELETE FROM public."{table}"' for table in reversed(names)]
            script += [f'INSERT INTO public."{table}" OVERRIDING SYSTEM VALUE '
                       f'SELECT * FROM "{SNAPSHOT}"."{table}"' for table in names]
            sequences = await connection.fetch(
                "SELECT sequencename, start_value, last_value FROM pg_sequences "
                "WHERE schemaname = 'public'")
            script += [f"SELECT setval('public.\"{name}\"', {start if last is None else last}, "
                       f"{last is not None})"
                       for name, start, last in sequences]
            await connection.execute(
                f'CREATE TABLE "{SNAPSHOT}".state AS SELECT ({FINGERPRINT}) AS fingerprint, '
                "$$" + ";\n".join(script) + "$$::text AS script")
    finally:
        await connection.close()


async def put_back(url: str) -> bool:
    """Puts the snapshot's rows and sequences back; ``False`` (nothing done) when there is no
    snapshot or the schema changed since."""
    connection = await asyncpg.connect(dsn(url))
    try:
        if await connection.fetchval(f"SELECT to_regclass('\"{SNAPSHOT}\".state')") is None:
            return False
        script = await connection.fetchval(
            f'SELECT script FROM "{SNAPSHOT}".state WHERE fingerprint = ({FINGERPRINT})')
        if script is None:
            return False
        await connection.execute(script)  # one implicit transaction
        return True
    finally:
        await connection.close()
