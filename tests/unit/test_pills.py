"""People's pills show their display name in the room, escaped, unless the name could mislead."""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.render import message_content
from commands.effects import Reply
from commands.mentions import body_with_user_ids
from commands.pills import (
    MAX_NAME,
    RoomNames,
    content_has_pills,
    has_pills,
    name_pills,
    pilled_users,
    shown_names,
    with_names,
)
from commands.text import pill
from tests.loop_turns import counted_turns

ALICE, BOB, CAROL = "@alice:localhost", "@bob:localhost", "@carol:localhost"
DAVE, ERIN = "@dave:localhost", "@erin:localhost"


def test_clear_names_are_shown_and_missing_ones_are_not() -> None:
    assert shown_names({ALICE: "Alice Martin", BOB: None, CAROL: "  Zoé   Dupont "}) == {
        ALICE: "Alice Martin", CAROL: "Zoé Dupont"}


@pytest.mark.parametrize("name", [
    "", "   ",
    "@bob:localhost",  # another person's id
    "Bob (@bob:localhost)", "@bob", "alice@example.org",  # an @ could read as an id or a mention
    "Ali\u200bce",  # an invisible character
    "Bob\u202e",  # a bidi control
    "Аlice",  # a word mixing Cyrillic and Latin letters
    "x" * (MAX_NAME + 1),
])
def test_names_that_could_mislead_are_not_shown(name: str) -> None:
    assert shown_names({ALICE: name}) == {}


@pytest.mark.parametrize(("first", "second"), [
    ("Alice", "Alice"),  # the same name
    ("Alice", "alice"),  # in another case
    ("Paul", "PauI"),  # a capital I for an l (TR39 skeletons)
    ("Alice", "Alice "),  # spaces are not seen
])
def test_ambiguous_names_are_shown_for_nobody(first: str, second: str) -> None:
    assert shown_names({ALICE: first, BOB: second, CAROL: "Carole"}) == {CAROL: "Carole"}


def test_a_name_made_hidden_still_makes_a_lookalike_ambiguous() -> None:
    """Alice's name is not shown (an invisible character): Bob's copy of it is not either."""
    assert shown_names({ALICE: "Alice\u200b", BOB: "Alice"}) == {}


def rendered(markdown: str) -> dict[str, object]:
    return message_content(Reply(markdown, mentions=(ALICE,)))


def test_pills_take_the_name_escaped_and_the_rest_stays_exact() -> None:
    content = rendered(f"Bravo {pill(ALICE)} et {pill(BOB)} !")
    named = with_names(content, {ALICE: "<b>Alice</b> & Co", CAROL: "Carole"})
    assert named["formatted_body"] == (
        '<p>Bravo <a href="https://matrix.to/#/@alice:localhost">&lt;b&gt;Alice&lt;/b&gt; &amp; '
        'Co</a> et <a href="https://matrix.to/#/@bob:localhost">@bob:localhost</a> !</p>')
    # The plain body, the mentions and the link keep the ids (exact, as an erasure finds them).
    assert named["body"] == content["body"] == "Bravo @alice:localhost et @bob:localhost !"
    assert named["m.mentions"] == {"user_ids": [ALICE]}
    assert "formatted_body" in content and content["formatted_body"] != named["formatted_body"]


def test_only_pills_showing_their_id_are_named() -> None:
    html = (f'<a href="https://matrix.to/#/{ALICE}">Madame</a> '
            '<a href="https://example.org/@alice:localhost">@alice:localhost</a>')
    assert name_pills(html, {ALICE: "Alice"}) == html


def test_historic_ids_escaped_in_the_link_are_named_too() -> None:
    odd = '@b&o"b:localhost'
    content = rendered(f"Salut {pill(odd)}")
    named = with_names(content, {odd: "Bob"})
    assert named["formatted_body"] == '<p>Salut <a href="https://matrix.to/#/@b%26o%22b:localhost">Bob</a></p>'


def test_edits_name_their_new_content() -> None:
    content = rendered(f"Bravo {pill(ALICE)}")
    edit = {**content, "m.new_content": dict(content)}
    assert content_has_pills(edit) and not content_has_pills(rendered("Pas de pill"))
    named = with_names(edit, {ALICE: "Alice"})
    assert ">Alice</a>" in str(named["formatted_body"])
    assert ">Alice</a>" in json.dumps(named["m.new_content"])


def test_the_people_a_message_pills_are_found_in_it_and_its_edit() -> None:
    content = {"formatted_body": f'<a href="https://matrix.to/#/{ALICE}">{ALICE}</a>',
               "m.new_content": {"formatted_body": f'<a href="https://matrix.to/#/{BOB}">x</a>'
                                                   ' <a href="https://example.org">y</a>'}}
    assert pilled_users(content) == {ALICE, BOB}


async def test_room_names_follow_the_members_without_reading_the_list_again() -> None:
    """A room's member list is read at its first message with pills; then joins, renames and
    departures reach its names one by one (a message never reads the whole list again: the
    club's main room holds 3,500 people), until the room is forgotten or evicted."""
    members = {ALICE: "Alice", BOB: "Bob", CAROL: "Carole", DAVE: None}
    reads: list[str] = []

    def listed(room: str) -> Callable[[], dict[str, str | None]]:
        def read() -> dict[str, str | None]:
            reads.append(room)
            return dict(members)
        return read

    names = RoomNames(rooms=2, chunk=2)
    assert await names.shown("!a", {ALICE, BOB, DAVE}, listed("!a")) == {ALICE: "Alice",
                                                                        BOB: "Bob"}
    names.update("!a", ERIN, "Alіce")  # a look-alike joins (a Cyrillic і)
    assert await names.shown("!a", {ALICE, ERIN}, listed("!a")) == {}
    names.update("!a", ERIN, None)  # and leaves
    names.update("!a", BOB, "Bobby")
    names.update("!a", DAVE, "Dave")
    names.update("!b", ERIN, "Erin")  # a room without an index: nothing to follow
    assert await names.shown("!a", {ALICE, BOB, DAVE, ERIN}, listed("!a")) == {
        ALICE: "Alice", BOB: "Bobby", DAVE: "Dave"}
    assert reads == ["!a"]
    names.forget("!a")  # its members read again (or the bot left)
    assert await names.shown("!a", {BOB}, listed("!a")) == {BOB: "Bob"}
    await names.shown("!b", {BOB}, listed("!b"))
    await names.shown("!c", {BOB}, listed("!c"))  # three rooms: the oldest index goes
    assert await names.shown("!a", {ALICE}, listed("!a")) == {ALICE: "Alice"}
    assert reads == ["!a", "!a", "!b", "!c", "!a"]


async def test_a_room_whose_members_could_not_be_read_is_read_again_next_time() -> None:
    names = RoomNames()

    def failing() -> dict[str, str | None]:
        raise RuntimeError("no member list")

    with pytest.raises(RuntimeError):
        await names.shown("!a", {ALICE}, failing)
    assert await names.shown("!a", {ALICE}, lambda: {ALICE: "Alice"}) == {ALICE: "Alice"}

    class Odd(dict[str, str | None]):
        def items(self) -> Any:  # fails while the index is being built
            raise RuntimeError("half read")

    with pytest.raises(RuntimeError):
        await names.shown("!b", {ALICE}, lambda: Odd({ALICE: "Alice"}))
    assert await names.shown("!b", {ALICE}, lambda: {ALICE: "Alicia"}) == {ALICE: "Alicia"}


async def test_a_room_index_is_built_a_chunk_at_a_time_once_for_all_its_messages() -> None:
    """The first messages with pills in a big room share one reading of its members, built a
    chunk at a time with the event loop free in between; a change synced meanwhile wins over
    the list read before it."""
    people = {f"@p{n}:example.org": f"Personne {n}" for n in range(1000)}
    reads = 0

    def read() -> dict[str, str | None]:
        nonlocal reads
        reads += 1
        return dict(people)

    names = RoomNames()  # 100 names a turn by default
    async with counted_turns() as turns:
        first = asyncio.ensure_future(names.shown("!big", {"@p1:example.org"}, read))
        second = asyncio.ensure_future(names.shown("!big", {"@p999:example.org"}, read))
        await asyncio.sleep(0)
        before = turns.count
        names.update("!big", "@p999:example.org", "Nouveau nom")  # synced during the build
        assert await first == {"@p1:example.org": "Personne 1"}
        assert await second == {"@p999:example.org": "Nouveau nom"}
        during = turns.count - before
    assert reads == 1
    assert during >= 10  # the loop ran between the ten chunks (100 names a turn)


def test_a_pill_is_found_with_its_at_sign_as_it_is_or_percent_encoded() -> None:
    """One test for a pill, for what the bot sends and what it reads (Element may write the
    ``@`` of a user id as ``%40``)."""
    for href in ("https://matrix.to/#/@alice:x", "https://matrix.to/#/%40alice:x"):
        html = f'<a href="{href}">Alice</a>'
        assert has_pills(html) and content_has_pills({"formatted_body": html})
        assert body_with_user_ids("Alice", html) == "@alice:x"
    assert not has_pills('<a href="https://matrix.to/#/#salon:x">salon</a>')


def _literals(tree: ast.AST) -> Iterator[str]:
    """The string constants of a module, docstrings left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            yield node.value


def test_the_matrix_to_prefix_is_written_in_one_place() -> None:
    root = Path(__file__).resolve().parents[2]
    written = [str(path.relative_to(root)) for package in ("bot", "commands", "storage")
               for path in sorted((root / package).rglob("*.py"))
               if any("matrix.to/#" in text or r"matrix\.to/#" in text
                      for text in _literals(ast.parse(path.read_text())))]
    assert written == []  # matrix_ids.MATRIX_TO
