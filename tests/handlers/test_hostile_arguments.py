"""Every command of the registry, its arguments drawn by Hypothesis from what an attacker with a
Matrix account would type: any unicode, HTML tags, ``@room`` in its spellings, right-to-left
and zero-width characters, 100 kB strings. Each line gets a French reply or a reaction through
the real dispatch path on a real SQLite database, never an exception; a refusal is short and
changes nothing; no reply is over the size of one message, pings the room or carries HTML the
sender wrote (``tests/stress/test_fuzz_dispatch.py`` runs 100,000 such lines at random)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.oversize import CONTENT_LIMIT, content_size
from bot.render import answer_content
from commands.roles import Role
from tests.stress.test_fuzz_dispatch import (
    PEOPLE,
    REGISTRY,
    USER_ID,
    Fuzz,
    _check_safe,
    _messages,
    _reacts,
)

HOSTILE = [
    "@room", "@ROOM", "@room:", "@room!", "＠room", "@\u200broom", "[@room](https://x.org)",
    "<b>gras</b>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>", "</p><h1>titre", "<!-- x -->", "&lt;b&gt;",
    "\u202eelor\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "\u0627\u0644\u0633\u0644\u0627\u0645",
    "a\u200bb", "\u2060", "\ufeff", "\u200c\u200d", "\u034f", "\u3164", "\u2800",
    "x" * 100_000, "é" * 50_000, "😀" * 25_000, "1", "2", "-1", "99999999999999999999",
    "@bob:example.org", "--page", "--groupe", "--cloture", "|", "demain 18h", "\n", "`", "```",
    "**", "\\", "\x00",
]
ARGUMENT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
SHORT = 2_000  # characters: a refusal is a sentence or two and the usage
COMMANDS = sorted(REGISTRY.walk(), key=lambda c: c.key)
PATHS = {c.key: c.path_in("fr") for c in COMMANDS if c.handler is not None}


@pytest.fixture(scope="module")
def fuzz() -> Iterator[Fuzz]:
    with tempfile.TemporaryDirectory() as folder:
        seeded = Fuzz(Path(folder))
        try:
            yield seeded
        finally:
            seeded.close()


def hostile_line_gets_a_safe_reply(fuzz: Fuzz, line: str, sender: str, role: Role) -> None:
    before = fuzz.version()
    reply, refused = fuzz.loop.run_until_complete(fuzz.answer(line, sender, role))
    assert reply.markdown.strip() or _reacts(reply), f"no answer to {line[:200]!r}"
    named = {sender, *USER_ID.findall(line), *fuzz._answered_authors(line)}
    for message in _messages(reply):
        _check_safe(message, named, line[:200])
        if message.markdown:
            content = answer_content(message, _Asked(sender))
            assert content_size(content, "m.room.message", "!r:b", False) <= CONTENT_LIMIT
    if refused:
        assert len(reply.markdown) <= SHORT, (line[:200], reply.markdown[:300])
        assert fuzz.version() == before, f"a refused command changed the database: {line[:200]!r}"


class _Asked:
    def __init__(self, sender: str) -> None:
        self.event_id, self.sender, self.thread_root = "$e", sender, None


@pytest.mark.parametrize("key", sorted(PATHS))
def test_hostile_arguments_get_a_short_safe_reply(fuzz: Fuzz, key: str) -> None:
    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(words=st.lists(ARGUMENT, max_size=4), person=st.sampled_from(PEOPLE))
    def every_line(words: list[str], person: tuple[str, Role]) -> None:
        hostile_line_gets_a_safe_reply(fuzz, " ".join([PATHS[key], *words]), *person)

    every_line()
