"""Random command lines through the real dispatch path, on a real SQLite database: always a
reply, never a crash, and a refused command changes nothing."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.render import message_content
from commands import build_registry
from commands.context import Club, Context, Reply
from commands.dispatch import command_text, error_reply, prepare, run
from commands.errors import UserError
from commands.i18n import Translator
from commands.registry import Role
from storage.db import Database
from tests.handlers.fakes import FakeMatrix

REGISTRY = build_registry()
CLUB = Club("CCT", "!", "fr", "Europe/Paris", "Charte", "", "test")
NAMES = [name for command in REGISTRY.walk() for name in command.names]
WORDS = st.one_of(
    st.sampled_from([*NAMES, "@room", "<script>alert(1)</script>", "**gras**", "`code`",
                     '"entre guillemets"', "« guillemets »", "l'atelier", "#12", "x" * 5000,
                     "velo", "1", "--theme", "--territoire", "énergie", "sud", "@bob:example.org",
                     "#salon:example.org", "retirer", "--page", "—description"]),
    st.text(min_size=0, max_size=30),
)
LOOP = asyncio.new_event_loop()
FOLDER = tempfile.TemporaryDirectory()
DB = Database(f"sqlite+aiosqlite:///{Path(FOLDER.name) / 'fuzz.db'}")


async def _setup() -> None:
    await DB.upgrade()
    async with DB.transaction() as repos:  # a group to act on, whose referent is someone else
        group = await repos.groups.create(name="Atelier vélo", name_key="atelier velo",
                                          slug="atelier-velo", description="", theme="mobilite",
                                          territory="sud", status="en-cours",
                                          created_by="@ref:b", at=datetime(2026, 1, 1, tzinfo=UTC))
        await repos.groups.add_member(group.id, "@ref:b", datetime(2026, 1, 1, tzinfo=UTC),
                                      referent=True)


LOOP.run_until_complete(_setup())


async def _snapshot() -> str:
    """The whole database, as text."""
    async with DB.transaction() as repos:
        rows = []
        for table in ("project_groups", "group_members", "group_progress", "group_needs",
                      "initiatives", "audit_log"):
            result = await repos.session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            rows.append(repr(result.all()))
        return "\n".join(rows)


async def _answer(line: str, role: Role) -> tuple[Reply, bool]:
    """The reply, and whether the command was refused."""
    t = Translator("fr")
    now = datetime(2026, 11, 22, tzinfo=UTC)
    try:
        async with DB.transaction() as repos:
            ctx = Context("@a:b", "!r", "$e", now, now, role, CLUB, t, repos=repos,
                          matrix=FakeMatrix())
            return await run(prepare(REGISTRY, line, role), ctx), False
    except UserError as error:
        return error_reply(error, t, "!"), True


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(WORDS, min_size=1, max_size=6), coordinator=st.booleans())
def test_every_line_gets_a_safe_reply(words: list[str], coordinator: bool) -> None:
    body = "!" + " ".join(words)
    line = command_text(body, "!")
    if line is None:
        return
    before = LOOP.run_until_complete(_snapshot())
    role = Role.COORDINATOR if coordinator else Role.PARTICIPANT
    reply, refused = LOOP.run_until_complete(_answer(line, role))
    assert reply.markdown.strip()
    content = message_content(reply)
    assert "<script" not in content["formatted_body"]
    assert "@room" not in content["body"]
    assert "room" not in content["m.mentions"]
    if refused:
        assert LOOP.run_until_complete(_snapshot()) == before
