"""Thread relations: reading the thread of an event, the relations of the bot's messages, the
latest event of each thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot import threads as heads_module
from bot.render import message_content
from bot.threads import ThreadHeads
from commands.effects import Reply
from commands.threads import LATEST, awaits_latest, in_thread, thread_root, with_latest

BOT = "@bot:localhost"


@pytest.mark.parametrize(("content", "root"), [
    ({"m.relates_to": {"rel_type": "m.thread", "event_id": "$r"}}, "$r"),
    ({"m.relates_to": {"rel_type": "m.thread", "event_id": ""}}, None),
    ({"m.relates_to": {"rel_type": "m.thread", "event_id": 3}}, None),
    ({"m.relates_to": {"rel_type": "m.reference", "event_id": "$r"}}, None),
    ({"m.relates_to": {"m.in_reply_to": {"event_id": "$r"}}}, None),
    ({"m.relates_to": "$r"}, None),
    ({}, None),
])
def test_the_thread_of_an_event(content: dict[str, Any], root: str | None) -> None:
    assert thread_root(content) == root


def test_an_answer_in_a_thread_names_the_command_it_answers() -> None:
    content = message_content(Reply("pong"), in_reply_to="$cmd", reply_sender="@a:x",
                              thread="$root")
    assert content["m.relates_to"] == {"rel_type": "m.thread", "event_id": "$root",
                                       "is_falling_back": False,
                                       "m.in_reply_to": {"event_id": "$cmd"}}
    assert awaits_latest(content) is None


def test_a_thread_message_answering_nobody_waits_for_the_latest_event() -> None:
    content = message_content(Reply("dans le fil"), thread="$root")
    assert content["m.relates_to"] == in_thread("$root") == {
        "rel_type": "m.thread", "event_id": "$root", "is_falling_back": True,
        "m.in_reply_to": {"event_id": LATEST}}
    assert awaits_latest(content) == "$root"
    sent = with_latest(content, "$latest")
    assert sent["m.relates_to"]["m.in_reply_to"] == {"event_id": "$latest"}
    assert content["m.relates_to"]["m.in_reply_to"] == {"event_id": LATEST}  # left as it was


@dataclass
class Event:
    event_id: str
    sender: str
    source: dict[str, Any] = field(default_factory=dict)


def in_root(event_id: str, root: str = "$root", sender: str = "@ana:x") -> Event:
    return Event(event_id, sender, {"content": {"m.relates_to": {"rel_type": "m.thread",
                                                                 "event_id": root}}})


def test_the_latest_event_of_a_thread_from_the_sync_and_the_bot_s_sends() -> None:
    heads = ThreadHeads()
    assert heads.latest("!r", "$root") is None
    heads.seen("!r", [in_root("$1"), Event("$chat", "@ana:x"), in_root("$2"),
                      in_root("$other", root="$elsewhere")], BOT)
    assert heads.latest("!r", "$root") == "$2"
    assert heads.latest("!r", "$elsewhere") == "$other"
    assert heads.latest("!other-room", "$root") is None
    heads.sent("!r", {"m.relates_to": in_thread("$root")}, "$3")
    heads.seen("!r", [in_root("$3", sender=BOT)], BOT)  # the bot's own, back from the sync
    assert heads.latest("!r", "$root") == "$3"
    heads.sent("!r", {"body": "racine"}, "$new-root")  # a message of the bot: an empty thread
    assert heads.latest("!r", "$new-root") == "$new-root"
    heads.seen("!r", [in_root("$before-start", root="$old", sender=BOT)], BOT)
    assert heads.latest("!r", "$old") == "$before-start"  # the bot's, sent before a restart


def test_threads_long_quiet_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heads_module, "KEPT", 2)
    heads = ThreadHeads()
    for number in range(3):
        heads.note("!r", f"$root{number}", f"$e{number}")
    heads.note("!r", "$root1", "$e1b")  # active again: kept
    heads.note("!r", "$root3", "$e3")
    assert [heads.latest("!r", f"$root{n}") for n in range(4)] == [None, "$e1b", None, "$e3"]
