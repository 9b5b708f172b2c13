"""The tests' and benchmarks' PostgreSQL addresses (``devtools.postgres``)."""

from __future__ import annotations

from devtools.postgres import database_url


def test_the_database_is_named_and_the_driver_is_asyncpg() -> None:
    assert database_url("postgresql://postgres@127.0.0.1:5432/postgres", "cct_1") == (
        "postgresql+asyncpg://postgres@127.0.0.1:5432/cct_1")


def test_a_unix_socket_address_keeps_its_query() -> None:
    assert database_url("postgresql://postgres@/postgres?host=/var/run/postgresql", "cct_2") == (
        "postgresql+asyncpg://postgres@/cct_2?host=/var/run/postgresql")
