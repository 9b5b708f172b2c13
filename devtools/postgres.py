"""The address of a database on the PostgreSQL server the tests and benchmarks use."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def database_url(dsn: str, name: str) -> str:
    """The bot's URL (asyncpg) of database ``name`` on ``dsn``'s server, the address's query
    kept (``?host=/var/run/postgresql``: its Unix socket)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))
