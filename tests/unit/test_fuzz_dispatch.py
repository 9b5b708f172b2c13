"""Random command lines through the real dispatch path: always a reply, never a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import message_content
from commands import build_registry
from commands.context import Club, Context, Reply
from commands.dispatch import command_text, error_reply, prepare, run
from commands.errors import UserError
from commands.i18n import Translator
from commands.registry import Role

REGISTRY = build_registry()
CLUB = Club("CCT", "!", "fr", "Europe/Paris", "Charte", "", "test")
NAMES = [name for command in REGISTRY.walk() for name in command.names]
WORDS = st.one_of(
    st.sampled_from([*NAMES, "@room", "<script>alert(1)</script>", "**gras**", "`code`",
                     '"entre guillemets"', "« guillemets »", "l'atelier", "#12", "x" * 5000]),
    st.text(min_size=0, max_size=30),
)


def answer(line: str, role: Role) -> Reply:
    t = Translator("fr")
    now = datetime(2026, 11, 22, tzinfo=UTC)
    ctx = Context("@a:b", "!r", "$e", now, now, role, CLUB, t)
    try:
        return asyncio.run(run(prepare(REGISTRY, line, role), ctx))
    except UserError as error:
        return error_reply(error, t, "!")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(WORDS, min_size=1, max_size=6), coordinator=st.booleans())
def test_every_line_gets_a_safe_reply(words: list[str], coordinator: bool) -> None:
    body = "!" + " ".join(words)
    line = command_text(body, "!")
    if line is None:
        return
    reply = answer(line, Role.COORDINATOR if coordinator else Role.PARTICIPANT)
    assert reply.markdown.strip()
    content = message_content(reply)
    assert "<script" not in content["formatted_body"]
    assert "@room" not in content["body"]
    assert "room" not in content["m.mentions"]
