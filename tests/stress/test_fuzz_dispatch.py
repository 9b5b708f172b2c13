"""100,000 generated command lines through the real dispatch path, on a real SQLite database:
every line gets a reply or a usage, never an exception; no reply can ping the room, mention
someone the sender did not name, or carry HTML the user wrote; a refused command changes
nothing.

Most lines start with a real command path (French or English) followed by generated arguments:
random words, unicode, quotes, huge values, Markdown/HTML, mentions, dates, options; the rest
are random words. Lines go in batches of 50 per Hypothesis example (2,000 examples), which
keeps the generator's overhead low; a failing batch shrinks to the lines that matter.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bot.render import ALLOWED_TAGS, URL_SCHEMES, message_content
from commands import build_registry
from commands.arguments import Integer
from commands.context import Club, Context
from commands.dispatch import command_text, error_reply, prepare, run
from commands.effects import Post, React, Reply
from commands.errors import BadArgument, UserError
from commands.i18n import Translator
from commands.roles import Role
from storage.db import Database
from tests.handlers.fakes import FakeMatrix

pytestmark = pytest.mark.stress

LINES = int(os.environ.get("CCT_FUZZ_LINES", 100_000))  # fewer while working on this file
PER_EXAMPLE = 50
REGISTRY = build_registry()
CLUB = Club("CCT", "!", "fr", "Europe/Paris", "Charte", "", "test")
ROOM = "!r:b"  # where every line is sent
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
REFERENT = "@ref:b"
PEOPLE = (("@a:b", Role.PARTICIPANT), (REFERENT, Role.REFERENT),
          ("@coord:b", Role.COORDINATOR))
PATHS = sorted({command.path_in(language) for command in REGISTRY.walk()
                for language in ("fr", "en")})
TOKENS = [
    "@room", "@room:", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>", "**gras**", "`code`", "```", "[lien](javascript:x)",
    '"entre guillemets"', "« guillemets »", "l'atelier", "#12", "x" * 5000, "é" * 300, "velo",
    "Atelier vélo", "atelier-velo", "1", "2", "0", "-1", "999999999999999999999", "3.5", "1+",
    "2?", "3-", "oui", "non", "retirer", "--theme", "mobilite", "--territoire", "nord", "sud",
    "--cloture", "--page", "—description", "énergie", "@bob:example.org", "@ref:b",
    "[Bob](https://matrix.to/#/@bob:example.org)", "https://matrix.to/#/@room",
    "#salon:example.org", "!abc:example.org", "|", "demain", "lundi 14h", "12/12 18h30",
    "samedi 9h-12h", "dans 3 jours", "chaque mardi 18h", "tous les jours", "2026-12-01",
    "31/02", "hier", "25h", "1er janvier 2027", "\u200b", "\u202e", "🚲", "😀" * 50,
    "\n", "\t", "ℌ𝔢𝔩𝔩𝔬", "ﷺ", "\\", "*", "_", "~~barré~~", "> cité", "# titre",
]
def _commandish(text: str) -> str:
    """Generated text made to follow the prefix (``!  x`` or ``!!x`` is not a command)."""
    return text.lstrip().lstrip("!").lstrip() or "?"


WORD = st.one_of(st.sampled_from(TOKENS), st.text(max_size=30))


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, str, Role]]:
    """``PER_EXAMPLE`` lines built from a few generated words and the tokens above; drawing each
    line's words from Hypothesis one by one would cost more than running it."""
    pool = [*draw(st.lists(WORD, min_size=10, max_size=10)), *TOKENS]
    rnd = draw(st.randoms(use_true_random=False))
    lines = []
    for _ in range(PER_EXAMPLE):
        words = [rnd.choice(PATHS) if rnd.random() < 0.8 else rnd.choice(pool)]
        words += [rnd.choice(pool) for _ in range(rnd.randint(0, 6))]
        sender, role = rnd.choice(PEOPLE)
        lines.append((_commandish(" ".join(words)), sender, role))
    return lines


TAG = re.compile(r"<\s*/?\s*([a-zA-Z0-9]+)")
HREF = re.compile(r'href="([^"]*)"')
USER_ID = re.compile(r"@[^\s:]+:[^\s/)\]>\"']+")


class Fuzz:
    """A seeded database, and an observer connection that sees any committed write."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "fuzz.db"
        self.db = Database(f"sqlite+aiosqlite:///{self.path}")
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._seed())
        self.observer = sqlite3.connect(self.path)
        self.counts: Counter[str] = Counter()

    def close(self) -> None:
        self.observer.close()
        self.loop.run_until_complete(self.db.dispose())
        self.loop.close()

    def version(self) -> int:
        """Changes whenever another connection commits a change to the file."""
        return int(self.observer.execute("PRAGMA data_version").fetchone()[0])

    async def _seed(self) -> None:
        await self.db.upgrade()
        async with self.db.transaction() as repos:
            group = await repos.groups.create(
                name="Atelier vélo", name_key="atelier velo", slug="atelier-velo",
                description="", theme="mobilite", territory="sud", status="en-cours",
                created_by=REFERENT, at=NOW - timedelta(days=30))
            await repos.groups.add_member(group.id, REFERENT, NOW - timedelta(days=30),
                                          tz=PARIS, referent=True)
        for line in ("sondage dates Prochaine rencontre | samedi 9h | lundi 18h",
                     "rencontre planifier 12/12 14h-16h --lieu Embrun --territoire sud",
                     "rappel dans 3 jours relancer l'atelier"):
            reply, refused = await self.answer(line, "@coord:b", Role.COORDINATOR)
            assert not refused, reply.markdown
        await self._past_event()

    async def _past_event(self) -> None:
        """Event n°2, held yesterday and organised by the referent: who came to it may be
        recorded (``!rencontre presences|effectif|invite|feuille``)."""
        reply, refused = await self.answer("rencontre planifier 13/12 18h --territoire nord "
                                           f"--organisateur {REFERENT}", "@coord:b",
                                           Role.COORDINATOR)
        assert not refused, reply.markdown
        async with self.db.transaction() as repos:
            meeting = await repos.meetings.get(2)
            assert meeting is not None
            meeting.starts_at = NOW - timedelta(days=1)
            meeting.ends_at = NOW - timedelta(days=1) + timedelta(hours=2)

    async def answer(self, line: str, sender: str, role: Role) -> tuple[Reply, bool]:
        """The reply, and whether the command was refused (its transaction rolled back)."""
        t = Translator("fr")
        try:
            async with self.db.transaction() as repos:
                ctx = Context(sender, ROOM, "$e", NOW, NOW, role, CLUB, t, repos=repos,
                              matrix=FakeMatrix(), commands=REGISTRY)
                prepared = await prepare(REGISTRY, line, ctx)  # the objects named looked up
                return await run(prepared, ctx), False
        except UserError as error:
            return error_reply(error, t, "!"), True

    # Commands that tell an item's author what became of it, mentioning them in the room where
    # they raised it: (group words, subcommand words, the table of the items).
    TELL_AUTHOR = (
        (("remontee", "feedback"), ("reponse", "repondre", "answer", "reply"), "remontees"),
        (("odj", "ordre-du-jour", "ordredujour", "agenda"),
         ("refuser", "rejeter", "refuse", "reject", "decline"), "agenda_suggestions"),
    )

    def _answered_authors(self, line: str) -> set[str]:
        """The author of the item an answer or a refusal names: the one person such a reply may
        mention without being named in the line."""
        words = line.split()
        try:  # the item's number, read as the commands read it (« 12 », « #12 », « n°12 »)
            number = Integer().convert(words[2]) if len(words) >= 3 else None
        except BadArgument:
            number = None
        if number is None:
            return set()
        for groups, subcommands, table in self.TELL_AUTHOR:
            if words[0] in groups and words[1] in subcommands:
                rows = self.observer.execute(f"SELECT author FROM {table} WHERE id = ?",
                                             (number,)).fetchall()
                return {row[0] for row in rows}
        return set()

    def check(self, body: str, sender: str, role: Role) -> None:
        line = command_text(body, "!")
        if line is None:
            return
        self.counts["lines"] += 1
        before = self.version()
        reply, refused = self.loop.run_until_complete(self.answer(line, sender, role))
        self.counts["refused" if refused else "ran"] += 1
        if not refused:
            self.counts["ran " + _path_of(line)] += 1
        assert reply.markdown.strip() or _reacts(reply) or _posts_here(reply), \
            f"no answer to {line!r}"
        named = {sender, *USER_ID.findall(body), *self._answered_authors(line)}
        for message in _messages(reply):
            _check_safe(message, named, line)
        if refused:
            assert self.version() == before, f"a refused command changed the database: {line!r}"


def _path_of(line: str) -> str:
    """The command path a line starts with (the longest), or ``?``."""
    return max((path for path in PATHS if line == path or line.startswith(path + " ")),
               key=len, default="?")


def _reacts(reply: Reply) -> bool:
    """Some commands answer with a reaction on the command (✅ for a presence)."""
    return any(isinstance(effect, React) and effect.event_id == "$e" for effect in reply.effects)


def _posts_here(reply: Reply) -> bool:
    """Some commands answer with a message that is not a reply, in the same room (the
    confirmation of ``!oublier-moi``, which must not mention the person)."""
    return any(isinstance(effect, Post) and effect.room_id == ROOM and effect.reply.markdown
               for effect in reply.effects)


def _messages(reply: Reply) -> list[Reply]:
    """The reply and every message its effects post elsewhere."""
    return [reply, *(effect.reply for effect in reply.effects if isinstance(effect, Post))]


def _check_safe(reply: Reply, named: set[str], line: str) -> None:
    if not reply.markdown:
        return
    content: dict[str, Any] = message_content(reply)
    assert "@room" not in content["body"], line
    assert "room" not in content["m.mentions"], line
    assert set(TAG.findall(content["formatted_body"])) <= ALLOWED_TAGS, line
    for href in HREF.findall(content["formatted_body"]):
        assert href.split(":", 1)[0].lower() in URL_SCHEMES, line
    assert set(content["m.mentions"]["user_ids"]) <= named, line


def run_shard(shard: int, lines: int) -> Counter[str]:
    """``lines`` lines on a database of its own, from Hypothesis seed ``shard``."""
    with tempfile.TemporaryDirectory() as folder:
        fuzz = Fuzz(Path(folder))
        try:
            @seed(shard)
            @settings(max_examples=lines // PER_EXAMPLE, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(batch=batches())
            def every_line(batch: list[tuple[str, str, Role]]) -> None:
                for text, sender, role in batch:
                    fuzz.check("!" + text, sender, role)

            every_line()
            return fuzz.counts
        finally:
            fuzz.close()


def test_100_000_lines_each_get_a_safe_reply_and_refusals_change_nothing() -> None:
    shards = min(4, max(2, os.cpu_count() or 2))  # one process per core: same work, less wait
    with ProcessPoolExecutor(shards, mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(run_shard, shard, LINES // shards) for shard in range(shards)]
        counts = sum((job.result() for job in jobs), Counter[str]())
    assert counts["lines"] >= LINES - shards * PER_EXAMPLE, counts
    # Lines reached the handlers of many commands and were accepted there: at least two in five
    # command paths (French and English) accepted one line or more. (The share of accepted lines
    # falls with each command that refuses most generated arguments; this count does not.)
    accepted = {key for key in counts if key.startswith("ran ") and key != "ran ?"}
    assert len(accepted) * 5 >= len(PATHS) * 2, sorted(accepted)
