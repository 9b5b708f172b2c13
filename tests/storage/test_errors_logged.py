"""A failing statement's traceback, as the bot logs it, holds none of the statement's values
(people's text): the engine hides its parameters, the log masks what the database quotes."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from sqlalchemy import text

from bot.logs import setup_logging
from bot.redaction import Redactor
from storage.db import Database

TEXT = "Texte-confié-par-Alice-42"
FAILING: list[tuple[str, dict[str, Any], int]] = [
    ("INSERT INTO bot_state (key, value) VALUES (:k, :v)", {"k": TEXT, "v": TEXT}, 2),  # unique
    ("INSERT INTO bot_state (key, value) VALUES (:k, NULL)", {"k": TEXT}, 1),  # not null
    ("SELECT * FROM no_such_table WHERE x = :v", {"v": TEXT}, 1),
    ("SELECT CAST(:v AS INTEGER) + 1", {"v": TEXT}, 1),  # PostgreSQL: asyncpg cannot encode it
    ("SELECT CAST(CAST(:v AS TEXT) AS INTEGER)", {"v": TEXT}, 1),  # PostgreSQL quotes it
]


async def _logged_failure(db: Database, statement: str, values: dict[str, Any],
                          times: int) -> str | None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    setup_logging("INFO", "text", Redactor(), stream=stream)
    try:
        async with db.transaction() as repos:
            for _ in range(times):
                await repos.session.execute(text(statement), values)
    except Exception:
        logging.getLogger("bot.dispatcher").exception("internal error", extra={"ref": 7})
        return stream.getvalue()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    return None  # SQLite reads the value as 0: no failure


@pytest.mark.parametrize(("statement", "values", "times"), FAILING)
async def test_a_failing_statement_s_logged_traceback_holds_no_value(
        db: Database, statement: str, values: dict[str, Any], times: int) -> None:
    logged = await _logged_failure(db, statement, values, times)
    if logged is None:
        assert db.is_sqlite and "CAST" in statement
        return
    assert "internal error ref=7" in logged and "Traceback" in logged
    assert "Error" in logged.splitlines()[-1] or "sqlalche.me" in logged.splitlines()[-1]
    assert TEXT not in logged
    assert "Texte" not in logged
